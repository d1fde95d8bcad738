package kittyspark.runtime.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.tokenizer.TokenizerFiles;

/**
 * Reference outputs of Hugging Face transformers for a set of documents
 * ({@code {"docs": [{id, token_ids, nll_mean, next_logprob, argmax, greedy_prompt_len, greedy48}]}}).
 */
public final class HfReference {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One reference document. {@code greedy} is empty when the file has no greedy continuation. */
    public record Doc(String id, int[] tokenIds, double nllMean, double[] nextLogprob, int[] argmax,
                      int greedyPromptLen, int[] greedy) {
    }

    private HfReference() {
    }

    public static List<Doc> load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": reference file not found");
        }
        try {
            JsonNode docs;
            try (java.io.InputStream in = TokenizerFiles.open(file)) {
                docs = JSON.readTree(in).path("docs");
            }
            if (!docs.isArray()) {
                throw new IllegalArgumentException(file + ": expected an object with a 'docs' array");
            }
            List<Doc> out = new ArrayList<>();
            for (JsonNode d : docs) {
                out.add(new Doc(d.path("id").asText(), ints(d.path("token_ids")), d.path("nll_mean").asDouble(Double.NaN),
                        doubles(d.path("next_logprob")), ints(d.path("argmax")),
                        d.path("greedy_prompt_len").asInt(0), ints(d.path("greedy48"))));
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
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
