package kittyspark.jobs.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where a result came from, for reports: the command, when, and the source commit. */
public final class Provenance {
    private Provenance() {
    }

    /** The command line as the user typed it (as far as the JVM can tell). */
    public static String command(String name, List<String> args) {
        StringBuilder b = new StringBuilder("kitty-spark ").append(name);
        for (String a : args) {
            b.append(' ').append(a.matches("[A-Za-z0-9_./:=,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }

    public static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** The checkout's commit ({@code git rev-parse --short HEAD}, "+dirty" with local changes), or "unknown". */
    public static String commit(Path checkout) {
        String head = git(checkout, "rev-parse", "--short=12", "HEAD");
        if (head == null) {
            return "unknown";
        }
        String status = git(checkout, "status", "--porcelain", "--untracked-files=no");
        return status == null || status.isEmpty() ? head : head + "+dirty";
    }

    private static String git(Path dir, String... args) {
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", dir.toString()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
