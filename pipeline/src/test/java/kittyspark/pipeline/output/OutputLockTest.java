package kittyspark.pipeline.output;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import kittyspark.pipeline.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The output lock on the local file system, as the job uses it through Hadoop. */
class OutputLockTest {
    static final Duration STALE = Duration.ofMinutes(10);

    @TempDir
    Path dir;
    FileSystem fs;
    org.apache.hadoop.fs.Path out;
    Path lockFile;

    @BeforeEach
    void open() throws Exception {
        fs = FileSystem.getLocal(new Configuration());
        out = new org.apache.hadoop.fs.Path(dir.resolve("out").toUri());
        lockFile = dir.resolve("out").resolve(OutputLock.FILE);
    }

    /** A lock file as another job would have written it. */
    private void lockedBy(String hostKey, long pid, long startMs, long heartbeatAgeMs) throws Exception {
        Files.createDirectories(lockFile.getParent());
        Files.writeString(lockFile, new OutputLock.Holder("someone-else", "bob", "node7", hostKey, pid, startMs,
                "2025-01-01T00:00:00Z").toJson());
        Files.setLastModifiedTime(lockFile, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - heartbeatAgeMs));
    }

    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void aSecondHolderIsRefusedWithTheFirstOnesNameUntilTheFirstReleases() {
        OutputLock first = OutputLock.acquire(fs, out, STALE);
        InputException e = assertThrows(InputException.class, () -> OutputLock.acquire(fs, out, STALE));
        assertTrue(e.getMessage().contains("is in use by another kitty job: " + System.getProperty("user.name") + "@"), e.getMessage());
        assertTrue(e.getMessage().contains("(pid " + ProcessHandle.current().pid() + ")"), e.getMessage());
        first.close();
        assertFalse(Files.exists(lockFile), "released");
        OutputLock.acquire(fs, out, STALE).close();
    }

    @Test
    void theLockOfAJobWhoseProcessIsGoneFromThisHostIsTakenOverAtOnce() throws Exception {
        OutputLock probe = OutputLock.acquire(fs, out, STALE);
        String hostKey = OutputLock.Holder.parse(Files.readString(lockFile)).hostKey();
        probe.close();
        lockedBy(hostKey, deadPid(), 1, 0);
        try (OutputLock mine = OutputLock.acquire(fs, out, STALE)) {
            mine.verify();
            assertEquals(ProcessHandle.current().pid(), OutputLock.Holder.parse(Files.readString(lockFile)).pid());
        }
    }

    @Test
    void aLockFromAnotherHostIsHeldWhileItsHeartbeatIsFreshAndStaleAfterwards() throws Exception {
        lockedBy("node7|pid:[1]", 1, 1, 0);
        InputException held = assertThrows(InputException.class, () -> OutputLock.acquire(fs, out, STALE));
        assertTrue(held.getMessage().contains("bob@node7 (pid 1)"), held.getMessage());

        lockedBy("node7|pid:[1]", 1, 1, STALE.toMillis() + 60_000);
        OutputLock.acquire(fs, out, STALE).close();
    }

    @Test
    void aHolderThatLostItsLockStopsBeforeWriting() throws Exception {
        try (OutputLock mine = OutputLock.acquire(fs, out, STALE)) {
            lockedBy("node7|pid:[1]", 1, 1, 0); // another job took the output over (it judged us stale)
            IllegalStateException e = assertThrows(IllegalStateException.class, mine::verify);
            assertTrue(e.getMessage().contains("lost the output lock"), e.getMessage());
        }
        assertTrue(Files.exists(lockFile), "closing does not delete a lock that is not ours");
    }

    @Test
    void anOutputThatCannotBeCreatedIsUnwritable() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        org.apache.hadoop.fs.Path under = new org.apache.hadoop.fs.Path(file.resolve("out").toUri());
        assertThrows(OutputLock.Unwritable.class, () -> OutputLock.acquire(fs, under, STALE));
    }
}
