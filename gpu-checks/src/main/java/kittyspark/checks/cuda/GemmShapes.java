package kittyspark.checks.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.testing.ModelShapes;

/** The GEMM shapes (N, K) of a decoder layer and the LM head of named models, each shape once. */
public final class GemmShapes {
    private GemmShapes() {
    }

    /**
     * One N x K weight, with the GEMMs that use it, e.g. "llama3-8b qkv, qwen3-8b qkv".
     *
     * @param name the first model's GEMM name (qkv, o, gate_up, down, lm_head)
     */
    public record Shape(String name, String users, int n, int k) {
        public long weightBytes() {
            return 2L * n * k;
        }
    }

    /** The shapes of {@code models} (ModelShapes names), in model then layer order, duplicates merged. */
    public static List<Shape> of(List<String> models) {
        Map<Long, Shape> byShape = new LinkedHashMap<>();
        for (String model : models) {
            ModelConfig c = ModelShapes.named(model);
            int h = c.hiddenSize();
            int qw = c.numHeads() * c.headDim();
            int kvw = c.numKvHeads() * c.headDim();
            String[] names = {"qkv", "o", "gate_up", "down", "lm_head"};
            int[][] nk = {{qw + 2 * kvw, h}, {h, qw}, {2 * c.intermediateSize(), h}, {h, c.intermediateSize()}, {c.vocabSize(), h}};
            for (int i = 0; i < names.length; i++) {
                long key = ((long) nk[i][0] << 32) | nk[i][1];
                String user = model + " " + names[i];
                Shape prev = byShape.get(key);
                byShape.put(key, prev == null ? new Shape(names[i], user, nk[i][0], nk[i][1])
                        : new Shape(prev.name(), prev.users() + ", " + user, prev.n(), prev.k()));
            }
        }
        return new ArrayList<>(byShape.values());
    }
}
