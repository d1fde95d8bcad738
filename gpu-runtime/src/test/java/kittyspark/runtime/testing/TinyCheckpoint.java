package kittyspark.runtime.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import kittyspark.runtime.checkpoint.DType;
import kittyspark.runtime.checkpoint.SafetensorsWriter;

/** Writes small random Llama 3 / Qwen3 checkpoints for tests. */
public final class TinyCheckpoint {
    private TinyCheckpoint() {
    }

    public static final int HIDDEN = 64;
    public static final int LAYERS = 2;
    public static final int HEADS = 4;
    public static final int KV_HEADS = 2;
    public static final int HEAD_DIM = 16;
    public static final int INTER = 96;
    public static final int VOCAB = 128;

    /**
     * The sizes of a tiny checkpoint, the dtype of Llama's separate output head and the spread
     * of the uniform random weights (projections, down_proj, output head).
     */
    public record Shape(int hidden, int inter, int layers, int heads, int kvHeads, int headDim, int vocab,
                        int maxPositions, DType headType, double projScale, double downScale, double headScale) {
        /** The unit tests' shape (an f32 head exercises mixed-dtype loading). */
        public static final Shape TEST = new Shape(HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB, 512, DType.F32,
                0.2, 0.2, 0.5);

        /**
         * A shape the CUDA kernels take: head dim 32 or more, all weights bf16, with the spreads
         * the GPU self-test's CPU-vs-CUDA tolerances were set against.
         */
        public static Shape gpu(int headDim) {
            return new Shape(128, 256, 2, 4, 2, headDim, 512, 1024, DType.BF16, 0.15, 0.1, 0.3);
        }
    }

    /** @param qwen3 Qwen3 (q/k norm, tied embeddings) or Llama 3.1 (rope scaling, separate head) */
    public static Path write(Path dir, boolean qwen3, long seed) throws IOException {
        return write(dir, qwen3, seed, Shape.TEST);
    }

    public static Path write(Path dir, boolean qwen3, long seed, Shape s) throws IOException {
        Files.createDirectories(dir);
        String config = qwen3 ? """
                {"architectures":["Qwen3ForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":%d,
                 "num_attention_heads":%d,"num_key_value_heads":%d,"head_dim":%d,"vocab_size":%d,"rms_norm_eps":1e-6,
                 "rope_parameters":{"rope_theta":1000000.0,"rope_type":"default"},"max_position_embeddings":%d,
                 "tie_word_embeddings":true,"eos_token_id":0}
                """ : """
                {"architectures":["LlamaForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":%d,
                 "num_attention_heads":%d,"num_key_value_heads":%d,"head_dim":%d,"vocab_size":%d,"rms_norm_eps":1e-5,
                 "rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
                 "high_freq_factor":4.0,"original_max_position_embeddings":64},"max_position_embeddings":%d,
                 "tie_word_embeddings":false,"eos_token_id":[1,2]}
                """;
        Files.writeString(dir.resolve("config.json"), config.formatted(s.hidden(), s.inter(), s.layers(), s.heads(),
                s.kvHeads(), s.headDim(), s.vocab(), s.maxPositions()));
        SplittableRandom rnd = new SplittableRandom(seed);
        SafetensorsWriter w = new SafetensorsWriter();
        int hidden = s.hidden();
        int inter = s.inter();
        int q = s.heads() * s.headDim();
        int kv = s.kvHeads() * s.headDim();
        w.add("model.embed_tokens.weight", DType.BF16, random(rnd, s.vocab() * hidden, 1.0), s.vocab(), hidden);
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            w.add(p + "input_layernorm.weight", DType.BF16, ones(rnd, hidden), hidden);
            w.add(p + "post_attention_layernorm.weight", DType.BF16, ones(rnd, hidden), hidden);
            w.add(p + "self_attn.q_proj.weight", DType.BF16, random(rnd, q * hidden, s.projScale()), q, hidden);
            w.add(p + "self_attn.k_proj.weight", DType.BF16, random(rnd, kv * hidden, s.projScale()), kv, hidden);
            w.add(p + "self_attn.v_proj.weight", DType.BF16, random(rnd, kv * hidden, s.projScale()), kv, hidden);
            w.add(p + "self_attn.o_proj.weight", DType.BF16, random(rnd, hidden * q, s.projScale()), hidden, q);
            if (qwen3) {
                w.add(p + "self_attn.q_norm.weight", DType.BF16, ones(rnd, s.headDim()), s.headDim());
                w.add(p + "self_attn.k_norm.weight", DType.BF16, ones(rnd, s.headDim()), s.headDim());
            }
            w.add(p + "mlp.gate_proj.weight", DType.BF16, random(rnd, inter * hidden, s.projScale()), inter, hidden);
            w.add(p + "mlp.up_proj.weight", DType.BF16, random(rnd, inter * hidden, s.projScale()), inter, hidden);
            w.add(p + "mlp.down_proj.weight", DType.BF16, random(rnd, hidden * inter, s.downScale()), hidden, inter);
        }
        w.add("model.norm.weight", DType.BF16, ones(rnd, hidden), hidden);
        if (!qwen3) {
            w.add("lm_head.weight", s.headType(), random(rnd, s.vocab() * hidden, s.headScale()), s.vocab(), hidden);
        }
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    private static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    private static float[] ones(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (1.0 + (rnd.nextDouble() - 0.5) * 0.2);
        }
        return a;
    }
}
