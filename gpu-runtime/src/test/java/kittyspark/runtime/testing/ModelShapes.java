package kittyspark.runtime.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kittyspark.runtime.checkpoint.Architecture;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.checkpoint.RopeScaling;

/**
 * Named model shapes for benchmarks: the hyper-parameters of well-known checkpoints, so a
 * synthetic model of the same size can be built where the real weights cannot be brought.
 * Values are those of the models' Hugging Face {@code config.json}.
 */
public final class ModelShapes {
    private static final Map<String, ModelConfig> SHAPES = new LinkedHashMap<>();

    static {
        // meta-llama/Meta-Llama-3-8B: no RoPE scaling (that came with 3.1), untied head.
        SHAPES.put("llama3-8b", new ModelConfig(Architecture.LLAMA, 4096, 14336, 32, 32, 8, 128, 128256,
                1e-5, 500000.0, null, 8192, false, false, List.of(128001)));
        // meta-llama/Llama-3.2-1B: llama3 RoPE scaling (factor 32), tied embeddings.
        SHAPES.put("llama3-1b", new ModelConfig(Architecture.LLAMA, 2048, 8192, 16, 32, 8, 64, 128256,
                1e-5, 500000.0, new RopeScaling(32.0, 1.0, 4.0, 8192), 131072, true, false,
                List.of(128001, 128008, 128009)));
        // Qwen/Qwen3-8B: q/k norm (from the architecture), untied head.
        SHAPES.put("qwen3-8b", new ModelConfig(Architecture.QWEN3, 4096, 12288, 36, 32, 8, 128, 151936,
                1e-6, 1_000_000.0, null, 40960, false, false, List.of(151645, 151643)));
    }

    private ModelShapes() {
    }

    /** The shape called {@code name}; an unknown name fails with the list of known ones. */
    public static ModelConfig named(String name) {
        ModelConfig c = SHAPES.get(name);
        if (c == null) {
            throw new IllegalArgumentException("unknown model shape '" + name + "'; known: " + String.join(", ", names()));
        }
        return c;
    }

    public static List<String> names() {
        return List.copyOf(SHAPES.keySet());
    }
}
