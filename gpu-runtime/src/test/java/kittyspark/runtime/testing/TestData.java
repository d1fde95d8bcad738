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
        if (prop != null && Files.isDirectory(Path.of(prop, "models"))) {
            return Path.of(prop);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("models/kitty-demo-qwen3-12m"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (models/kitty-demo-qwen3-12m) from "
                    + Path.of("").toAbsolutePath());
        }
        return p;
    }

    public static Path demoModel() {
        return repoRoot().resolve("models/kitty-demo-qwen3-12m");
    }

    public static Path shared() {
        Path s = repoRoot().resolve("../shared").normalize();
        if (!Files.isDirectory(s.resolve("eval"))) {
            throw new IllegalStateException("the shared eval set is missing: expected " + s.resolve("eval")
                    + " beside the repository (CI always has it)");
        }
        return s;
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
