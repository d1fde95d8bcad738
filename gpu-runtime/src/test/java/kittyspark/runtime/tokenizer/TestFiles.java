package kittyspark.runtime.tokenizer;

import java.nio.file.Path;

import kittyspark.runtime.testing.TestData;

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
        return TestData.repoRoot();
    }

    static Path demoTokenizerJson() {
        return TestData.demoModel().resolve("tokenizer.json");
    }

    /** A vendored real tokenizer: {@code data/tokenizers/qwen3} or {@code data/tokenizers/llama-3.1}. */
    static Path realTokenizerDir(String name) {
        return repoRoot().resolve("data/tokenizers").resolve(name);
    }

    /** A Hugging Face reference file vendored beside the real tokenizers. */
    static Path tokenizerReference(String file) {
        return repoRoot().resolve("data/tokenizers").resolve(file);
    }

    /** A file of the vendored evaluation set (xz-compressed: read it with TokenizerFiles.open). */
    static Path sharedEvalFile(String name) {
        return TestData.evalFile(name);
    }
}
