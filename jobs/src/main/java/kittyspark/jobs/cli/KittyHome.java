package kittyspark.jobs.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the project's bundled files are (the demo model, conf/, data/): {@code -Dkitty.home}
 * (set by bin/kitty-spark), else the checkout that holds this code (jobs/target/classes or
 * jobs/target/kitty-spark-jobs.jar), else upwards from the working directory. Found from the
 * code first, so {@code spark-submit} run from any directory finds the same model.
 */
public final class KittyHome {
    public static final String DEMO_MODEL = "models/kitty-demo-qwen3-12m";

    private KittyHome() {
    }

    public static Path dir() {
        String home = System.getProperty("kitty.home");
        if (home != null) {
            return Path.of(home).toAbsolutePath();
        }
        Path fromCode = upwards(codeLocation());
        if (fromCode != null) {
            return fromCode;
        }
        Path fromCwd = upwards(Path.of("").toAbsolutePath());
        return fromCwd != null ? fromCwd : Path.of("").toAbsolutePath();
    }

    /** The embedded default model (absolute, so executors on this machine or a shared file system see it). */
    public static Path demoModel() {
        return dir().resolve(DEMO_MODEL);
    }

    private static Path codeLocation() {
        try {
            var source = KittyHome.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    private static Path upwards(Path p) {
        while (p != null && !Files.isDirectory(p.resolve(DEMO_MODEL))) {
            p = p.getParent();
        }
        return p;
    }
}
