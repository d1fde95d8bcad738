package kittyspark.runtime.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import kittyspark.runtime.eval.HfReference;

/** Where the bundled demo model and the vendored evaluation set are, for tests. */
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

    /** A file of the held-out evaluation set vendored in {@code data/eval/} (xz-compressed), e.g. "heldout-public.jsonl". */
    public static Path evalFile(String name) {
        Path p = repoRoot().resolve("data/eval").resolve(name + ".xz");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("the evaluation set is missing: expected " + p);
        }
        return p;
    }

    /** The Hugging Face reference documents of the evaluation set, read once. */
    public static synchronized List<HfReference.Doc> refDocs() {
        if (refDocs == null) {
            refDocs = HfReference.load(evalFile("heldout-public-hfref.json"));
        }
        return refDocs;
    }
}
