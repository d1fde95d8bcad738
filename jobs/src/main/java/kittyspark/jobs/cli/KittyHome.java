package kittyspark.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the project's bundled files are: {@code -Dkitty.home} (set by bin/kitty-spark), else found upwards. */
public final class KittyHome {
    public static final String DEMO_MODEL = "models/kitty-demo-qwen3-12m";

    private KittyHome() {
    }

    public static Path dir() {
        String home = System.getProperty("kitty.home");
        if (home != null) {
            return Path.of(home);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve(DEMO_MODEL))) {
            p = p.getParent();
        }
        return p == null ? Path.of("").toAbsolutePath() : p;
    }

    /** The embedded default model. */
    public static Path demoModel() {
        return dir().resolve(DEMO_MODEL);
    }
}
