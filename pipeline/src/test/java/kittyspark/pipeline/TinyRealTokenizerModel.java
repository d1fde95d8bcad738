package kittyspark.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import kittyspark.runtime.checkpoint.DType;
import kittyspark.runtime.checkpoint.SafetensorsWriter;

/**
 * A one-layer random checkpoint (Qwen3 or Llama 3.1 architecture, hidden size 16) that carries a
 * real tokenizer from {@code data/tokenizers}: enough to run the generate job on real prompts,
 * whose completions are noise but whose prompt ids are the point.
 */
final class TinyRealTokenizerModel {
    private static final int HIDDEN = 16;
    private static final int HEADS = 2;
    private static final int HEAD_DIM = 8;
    private static final int INTER = 32;

    private TinyRealTokenizerModel() {
    }

    /** @param tokenizer "qwen3" or "llama-3.1" */
    static Path write(Path dir, String tokenizer) throws IOException {
        boolean qwen3 = tokenizer.equals("qwen3");
        int vocab = qwen3 ? 151936 : 128256;
        Files.createDirectories(dir);
        String config = qwen3 ? """
                {"architectures":["Qwen3ForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":1,
                 "num_attention_heads":%d,"num_key_value_heads":1,"head_dim":%d,"vocab_size":%d,"rms_norm_eps":1e-6,
                 "rope_theta":1000000.0,"max_position_embeddings":40960,"tie_word_embeddings":true,"eos_token_id":151645}
                """.formatted(HIDDEN, INTER, HEADS, HEAD_DIM, vocab) : """
                {"architectures":["LlamaForCausalLM"],"hidden_size":%d,"intermediate_size":%d,"num_hidden_layers":1,
                 "num_attention_heads":%d,"num_key_value_heads":1,"vocab_size":%d,"rms_norm_eps":1e-5,
                 "rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
                 "high_freq_factor":4.0,"original_max_position_embeddings":8192},"max_position_embeddings":131072,
                 "tie_word_embeddings":false,"eos_token_id":[128001,128008,128009]}
                """.formatted(HIDDEN, INTER, HEADS, vocab);
        Files.writeString(dir.resolve("config.json"), config);
        SplittableRandom rnd = new SplittableRandom(7);
        SafetensorsWriter w = new SafetensorsWriter();
        int q = HEADS * HEAD_DIM;
        w.add("model.embed_tokens.weight", DType.BF16, random(rnd, vocab * HIDDEN), vocab, HIDDEN);
        String p = "model.layers.0.";
        w.add(p + "input_layernorm.weight", DType.BF16, ones(HIDDEN), HIDDEN);
        w.add(p + "post_attention_layernorm.weight", DType.BF16, ones(HIDDEN), HIDDEN);
        w.add(p + "self_attn.q_proj.weight", DType.BF16, random(rnd, q * HIDDEN), q, HIDDEN);
        w.add(p + "self_attn.k_proj.weight", DType.BF16, random(rnd, HEAD_DIM * HIDDEN), HEAD_DIM, HIDDEN);
        w.add(p + "self_attn.v_proj.weight", DType.BF16, random(rnd, HEAD_DIM * HIDDEN), HEAD_DIM, HIDDEN);
        w.add(p + "self_attn.o_proj.weight", DType.BF16, random(rnd, HIDDEN * q), HIDDEN, q);
        if (qwen3) {
            w.add(p + "self_attn.q_norm.weight", DType.BF16, ones(HEAD_DIM), HEAD_DIM);
            w.add(p + "self_attn.k_norm.weight", DType.BF16, ones(HEAD_DIM), HEAD_DIM);
        }
        w.add(p + "mlp.gate_proj.weight", DType.BF16, random(rnd, INTER * HIDDEN), INTER, HIDDEN);
        w.add(p + "mlp.up_proj.weight", DType.BF16, random(rnd, INTER * HIDDEN), INTER, HIDDEN);
        w.add(p + "mlp.down_proj.weight", DType.BF16, random(rnd, HIDDEN * INTER), HIDDEN, INTER);
        w.add("model.norm.weight", DType.BF16, ones(HIDDEN), HIDDEN);
        if (!qwen3) {
            w.add("lm_head.weight", DType.BF16, random(rnd, vocab * HIDDEN), vocab, HIDDEN);
        }
        w.write(dir.resolve("model.safetensors"));
        Path source = TestSpark.REPO.resolve("data/tokenizers").resolve(tokenizer);
        Files.copy(source.resolve("tokenizer.json.xz"), dir.resolve("tokenizer.json.xz"));
        Files.copy(source.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return dir;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * 0.3);
        }
        return a;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }
}
