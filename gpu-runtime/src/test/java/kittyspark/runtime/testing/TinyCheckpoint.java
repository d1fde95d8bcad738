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

    /** @param qwen3 Qwen3 (q/k norm, tied embeddings) or Llama 3.1 (rope scaling, separate head) */
    public static Path write(Path dir, boolean qwen3, long seed) throws IOException {
        Files.createDirectories(dir);
        String config = qwen3 ? """
                {"architectures":["Qwen3ForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":%d,
                 "num_attention_heads":%d,"num_key_value_heads":%d,"head_dim":%d,"vocab_size":%d,"rms_norm_eps":1e-6,
                 "rope_parameters":{"rope_theta":1000000.0,"rope_type":"default"},"max_position_embeddings":512,
                 "tie_word_embeddings":true,"eos_token_id":0}
                """ : """
                {"architectures":["LlamaForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":%d,
                 "num_attention_heads":%d,"num_key_value_heads":%d,"vocab_size":%d,"rms_norm_eps":1e-5,
                 "rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
                 "high_freq_factor":4.0,"original_max_position_embeddings":64},"max_position_embeddings":512,
                 "tie_word_embeddings":false,"eos_token_id":[1,2]}
                """;
        String text = qwen3 ? config.formatted(HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB)
                : config.formatted(HIDDEN, INTER, LAYERS, HEADS, KV_HEADS, VOCAB);
        Files.writeString(dir.resolve("config.json"), text);
        SplittableRandom rnd = new SplittableRandom(seed);
        SafetensorsWriter w = new SafetensorsWriter();
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        w.add("model.embed_tokens.weight", DType.BF16, random(rnd, VOCAB * HIDDEN, 1.0), VOCAB, HIDDEN);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            w.add(p + "input_layernorm.weight", DType.BF16, ones(rnd, HIDDEN), HIDDEN);
            w.add(p + "post_attention_layernorm.weight", DType.BF16, ones(rnd, HIDDEN), HIDDEN);
            w.add(p + "self_attn.q_proj.weight", DType.BF16, random(rnd, q * HIDDEN, 0.2), q, HIDDEN);
            w.add(p + "self_attn.k_proj.weight", DType.BF16, random(rnd, kv * HIDDEN, 0.2), kv, HIDDEN);
            w.add(p + "self_attn.v_proj.weight", DType.BF16, random(rnd, kv * HIDDEN, 0.2), kv, HIDDEN);
            w.add(p + "self_attn.o_proj.weight", DType.BF16, random(rnd, HIDDEN * q, 0.2), HIDDEN, q);
            if (qwen3) {
                w.add(p + "self_attn.q_norm.weight", DType.BF16, ones(rnd, HEAD_DIM), HEAD_DIM);
                w.add(p + "self_attn.k_norm.weight", DType.BF16, ones(rnd, HEAD_DIM), HEAD_DIM);
            }
            w.add(p + "mlp.gate_proj.weight", DType.BF16, random(rnd, INTER * HIDDEN, 0.2), INTER, HIDDEN);
            w.add(p + "mlp.up_proj.weight", DType.BF16, random(rnd, INTER * HIDDEN, 0.2), INTER, HIDDEN);
            w.add(p + "mlp.down_proj.weight", DType.BF16, random(rnd, HIDDEN * INTER, 0.2), HIDDEN, INTER);
        }
        w.add("model.norm.weight", DType.BF16, ones(rnd, HIDDEN), HIDDEN);
        if (!qwen3) {
            w.add("lm_head.weight", DType.F32, random(rnd, VOCAB * HIDDEN, 0.5), VOCAB, HIDDEN);
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
