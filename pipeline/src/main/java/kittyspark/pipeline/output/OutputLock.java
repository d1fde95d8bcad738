package kittyspark.pipeline.output;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.pipeline.InputException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job at a time per output. {@code OUT/_kitty_lock} names its holder (owner id, user, host,
 * pid, start time) and is created only if absent, atomically; the holder touches it (its
 * modification time) every tenth of the stale-after time as a heartbeat, checks it is still the
 * holder before every write, and deletes it at the end.
 *
 * <p>A lock is stale, and the next job takes it over (with a warning), when its holder ran on
 * this host and its process is gone (a killed job: taken over at once), or when it shows no
 * heartbeat for the stale-after time (a job on another host that died). Otherwise a second job
 * refuses to start, naming the holder.
 */
public final class OutputLock implements AutoCloseable {
    public static final String FILE = "_kitty_lock";
    private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ATTEMPTS = 3;
    /** A pid's start time read twice can differ by rounding; a reused pid differs by far more. */
    private static final long START_TOLERANCE_MS = 2000;

    private final FileSystem fs;
    private final Path path;
    private final Holder me;
    private final ScheduledExecutorService heartbeat;
    private volatile String lost;

    /** The output directory cannot be written (permissions, read-only mount): the message says why. */
    public static final class Unwritable extends RuntimeException {
        Unwritable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Who holds a lock. {@code hostKey} tells hosts apart where host names repeat (containers: the pid namespace). */
    public record Holder(String owner, String user, String host, String hostKey, long pid, long processStartMs,
                         String started) {

        static Holder current() {
            ProcessHandle self = ProcessHandle.current();
            return new Holder(UUID.randomUUID().toString(), System.getProperty("user.name"), localHostName(), localHostKey(),
                    self.pid(), self.info().startInstant().map(Instant::toEpochMilli).orElse(0L), Instant.now().toString());
        }

        String describe() {
            return user + "@" + host + " (pid " + pid + "), started " + started;
        }

        String toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("owner", owner);
            m.put("user", user);
            m.put("host", host);
            m.put("host_key", hostKey);
            m.put("pid", pid);
            m.put("process_start_ms", processStartMs);
            m.put("started", started);
            try {
                return JSON.writeValueAsString(m);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The holder in a lock file, or null when it cannot be read (a lock being written, or damaged). */
        static Holder parse(String json) {
            try {
                JsonNode n = JSON.readTree(json);
                if (n == null || !n.hasNonNull("owner")) {
                    return null;
                }
                return new Holder(n.path("owner").asText(), n.path("user").asText(), n.path("host").asText(),
                        n.path("host_key").asText(), n.path("pid").asLong(), n.path("process_start_ms").asLong(),
                        n.path("started").asText());
            } catch (IOException e) {
                return null;
            }
        }
    }

    private OutputLock(FileSystem fs, Path path, Holder me, Duration staleAfter) {
        this.fs = fs;
        this.path = path;
        this.me = me;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kitty-output-lock");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1000, staleAfter.toMillis() / 10);
        heartbeat.scheduleWithFixedDelay(this::beat, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes the lock of {@code root}, or fails naming the job that holds it.
     *
     * @throws Unwritable     when the output directory cannot be created or written
     * @throws InputException when another live job holds the output
     */
    public static OutputLock acquire(FileSystem fs, Path root, Duration staleAfter) {
        Path path = new Path(root, FILE);
        Holder me = Holder.current();
        try {
            if (!fs.mkdirs(root)) {
                throw new IOException("mkdirs failed");
            }
        } catch (IOException | RuntimeException e) {
            throw new Unwritable("cannot create the output directory " + root + ": " + e.getMessage(), e);
        }
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (create(fs, path, me)) {
                Holder written = read(fs, path);
                if (written != null && written.owner().equals(me.owner())) {
                    return new OutputLock(fs, path, me, staleAfter);
                }
                continue; // a store without atomic create let another job in: look again
            }
            FileStatus st = status(fs, path);
            if (st == null) {
                continue; // released meanwhile
            }
            Holder other = read(fs, path);
            String stale = staleness(other, st, staleAfter, me);
            if (stale == null) {
                throw new InputException("output " + root + " is in use by another kitty job: "
                        + (other == null ? "holder unreadable" : other.describe()) + ", last heartbeat "
                        + ageSeconds(st) + " s ago (lock file " + path + "). Wait for that job to finish. If it is dead, "
                        + "its lock goes stale " + staleAfter.toSeconds() + " s after its last heartbeat "
                        + "(kitty.run.lock-stale-after), or at once when it ran on this host; "
                        + "delete the lock file only if you are sure no job writes the output.");
            }
            takeOver(fs, path, other, me, stale);
        }
        throw new InputException("could not take the output lock " + path + " in " + ATTEMPTS
                + " attempts: other jobs are starting on the same output at the same time");
    }

    /** Creates the lock file with our holder, only if it does not exist; false if it does. */
    private static boolean create(FileSystem fs, Path path, Holder me) {
        byte[] json = me.toJson().getBytes(StandardCharsets.UTF_8);
        try {
            if ("file".equals(fs.getUri().getScheme())) {
                // Hadoop's local create(overwrite=false) checks then opens (two jobs can both pass);
                // a hard link of a complete temporary file is atomic and never shows half a lock.
                java.nio.file.Path lock = Paths.get(fs.makeQualified(path).toUri());
                java.nio.file.Path tmp = lock.resolveSibling(FILE + ".tmp-" + me.owner());
                Files.write(tmp, json);
                try {
                    Files.createLink(lock, tmp);
                    return true;
                } catch (FileAlreadyExistsException e) {
                    return false;
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            try (var out = fs.create(path, false)) { // atomic on HDFS
                out.write(json);
            }
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            if (status(fs, path) != null) {
                return false;
            }
            throw new Unwritable("cannot write the output lock " + path + ": " + e.getMessage(), e);
        }
    }

    private static void takeOver(FileSystem fs, Path path, Holder stale, Holder me, String why) {
        Path aside = new Path(path.getParent(), FILE + ".stale-" + me.owner());
        try {
            if (!fs.rename(path, aside)) {
                return; // another job moved it first; the caller looks again
            }
            Holder moved = read(fs, aside);
            boolean same = stale == null ? moved == null : moved != null && moved.owner().equals(stale.owner());
            if (!same) {
                fs.rename(aside, path); // a fresh lock appeared between our look and the move: put it back
                return;
            }
            LOG.warn("kitty: taking over the output lock of {}: {}", stale == null ? "an unreadable holder" : stale.describe(), why);
            fs.delete(aside, false);
        } catch (IOException e) {
            throw new InputException("cannot take over the stale output lock " + path + ": " + e.getMessage(), e);
        }
    }

    /** Why the lock is stale, or null while its holder may be alive. */
    static String staleness(Holder h, FileStatus st, Duration staleAfter, Holder me) {
        if (h != null && h.hostKey().equals(me.hostKey()) && !alive(h.pid(), h.processStartMs())) {
            return "its process " + h.pid() + " on this host is gone";
        }
        long age = System.currentTimeMillis() - st.getModificationTime();
        if (age > staleAfter.toMillis()) {
            return "no heartbeat for " + age / 1000 + " s (kitty.run.lock-stale-after is " + staleAfter.toSeconds() + " s)";
        }
        return null;
    }

    private static boolean alive(long pid, long startMs) {
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .map(p -> startMs == 0 || p.info().startInstant()
                        .map(i -> Math.abs(i.toEpochMilli() - startMs) <= START_TOLERANCE_MS).orElse(true))
                .orElse(false);
    }

    /** Fails unless this job still holds the lock: called before every write to the output. */
    public void verify() {
        if (lost != null) {
            throw new IllegalStateException(lost);
        }
        Holder h = read(fs, path);
        if (h == null || !h.owner().equals(me.owner())) {
            lost = "this job lost the output lock " + path + " (now " + (h == null ? "absent" : "held by " + h.describe())
                    + "); stopping before writing the output";
            throw new IllegalStateException(lost);
        }
    }

    private void beat() {
        try {
            Holder h = read(fs, path);
            if (h == null || !h.owner().equals(me.owner())) {
                lost = "this job lost the output lock " + path + " to " + (h == null ? "nobody" : h.describe());
                LOG.error("kitty: {}", lost);
                return;
            }
            fs.setTimes(path, System.currentTimeMillis(), -1);
        } catch (IOException | RuntimeException e) {
            LOG.warn("kitty: cannot refresh the output lock {}: {}", path, e.toString());
        }
    }

    /** Releases the lock if this job still holds it. */
    @Override
    public void close() {
        heartbeat.shutdownNow();
        Holder h = read(fs, path);
        if (h != null && h.owner().equals(me.owner())) {
            try {
                fs.delete(path, false);
            } catch (IOException e) {
                LOG.warn("kitty: cannot remove the output lock {}: {}", path, e.toString());
            }
        }
    }

    private static Holder read(FileSystem fs, Path p) {
        try (var in = fs.open(p)) {
            return Holder.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    private static FileStatus status(FileSystem fs, Path p) {
        try {
            return fs.getFileStatus(p);
        } catch (IOException e) {
            return null;
        }
    }

    private static long ageSeconds(FileStatus st) {
        return Math.max(0, (System.currentTimeMillis() - st.getModificationTime()) / 1000);
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null ? "unknown-host" : env;
        }
    }

    /** The host name plus, on Linux, the pid namespace: pids are only comparable within one. */
    private static String localHostKey() {
        try {
            return localHostName() + "|" + Files.readSymbolicLink(Paths.get("/proc/self/ns/pid"));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return localHostName();
        }
    }
}
