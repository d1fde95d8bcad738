package kittyspark.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the tests find the demo model and the shared evaluation set. The repository root comes
 * from the system property {@code kitty.repo.root} (surefire sets it) or the working directory;
 * the shared folder is a {@code shared} sibling of the root or of one of its ancestors (a git
 * worktree may sit one level deeper than the main checkout). Missing files fail the test: CI
 * always has them, and a silently skipped exactness test would prove nothing.
 */
final class TestFiles {
    private TestFiles() {
    }

    static Path repoRoot() {
        String prop = System.getProperty("kitty.repo.root");
        Path start = (prop != null && !prop.isBlank() ? Path.of(prop) : Path.of("")).toAbsolutePath().normalize();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("models/kitty-demo-qwen3-12m"))) {
                return dir;
            }
        }
        return fail("cannot find the repository root (a folder with models/kitty-demo-qwen3-12m) from " + start
                + "; set -Dkitty.repo.root");
    }

    static Path demoTokenizerJson() {
        return repoRoot().resolve("models/kitty-demo-qwen3-12m/tokenizer.json");
    }

    static Path sharedEvalFile(String name) {
        Path root = repoRoot();
        for (Path dir = root; dir != null && dir.getParent() != null; dir = dir.getParent()) {
            Path candidate = dir.getParent().resolve("shared/eval").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return fail("shared evaluation file " + name + " not found in ../shared/eval beside " + root
                + " or any of its ancestors; the tokenizer exactness test needs it");
    }
}
