package kittyspark.runtime.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import kittyspark.runtime.eval.HfReference;

/** Where the bundled demo model and the shared eval set are, for tests. */
public final class TestData {
    private static List<HfReference.Doc> refDocs;

    private TestData() {
    }

    /** The repository root: {@code -Dkitty.repo.root}, else the nearest ancestor holding the demo model. */
    public static Path repoRoot() {
        String prop = System.getProperty("kitty.repo.root");
        Path start = (prop != null && !prop.isBlank() ? Path.of(prop) : Path.of("")).toAbsolutePath().normalize();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("models/kitty-demo-qwen3-12m"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find the repository root (a folder with models/kitty-demo-qwen3-12m) from "
                + start + "; set -Dkitty.repo.root");
    }

    public static Path demoModel() {
        return repoRoot().resolve("models/kitty-demo-qwen3-12m");
    }

    /** The read-only {@code shared/} folder beside the repository (or beside an ancestor, for worktrees). */
    public static Path shared() {
        Path root = repoRoot();
        for (Path dir = root; dir != null && dir.getParent() != null; dir = dir.getParent()) {
            Path s = dir.getParent().resolve("shared");
            if (Files.isDirectory(s.resolve("eval"))) {
                return s;
            }
        }
        throw new IllegalStateException("the shared eval set is missing: expected ../shared/eval beside " + root
                + " (CI always has it)");
    }

    /** The Hugging Face reference documents of the shared eval set, read once. */
    public static synchronized List<HfReference.Doc> refDocs() {
        if (refDocs == null) {
            refDocs = HfReference.load(shared().resolve("eval/heldout-public-hfref.json"));
        }
        return refDocs;
    }
}
