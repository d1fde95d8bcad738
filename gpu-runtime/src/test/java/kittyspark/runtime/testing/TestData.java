package kittyspark.runtime.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Where the bundled demo model and the shared eval set are, for tests. */
public final class TestData {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static List<RefDoc> refDocs;

    private TestData() {
    }

    /** One document of the Hugging Face reference file. */
    public record RefDoc(String id, int[] tokenIds, double nllMean, double[] nextLogprob, int[] argmax,
                         int greedyPromptLen, int[] greedy48) {
    }

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

    public static synchronized List<RefDoc> refDocs() {
        if (refDocs == null) {
            try {
                JsonNode root = JSON.readTree(shared().resolve("eval/heldout-public-hfref.json").toFile());
                List<RefDoc> docs = new ArrayList<>();
                for (JsonNode d : root.get("docs")) {
                    docs.add(new RefDoc(d.get("id").asText(), ints(d.get("token_ids")), d.get("nll_mean").asDouble(),
                            doubles(d.get("next_logprob")), ints(d.get("argmax")),
                            d.get("greedy_prompt_len").asInt(), ints(d.get("greedy48"))));
                }
                refDocs = List.copyOf(docs);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return refDocs;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }
}
