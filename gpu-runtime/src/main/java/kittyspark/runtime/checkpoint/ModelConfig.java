package kittyspark.runtime.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The model hyper-parameters of a Hugging Face {@code config.json} (Qwen3 and Llama 3.x).
 */
public record ModelConfig(
        Architecture architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        List<Integer> eosTokenIds) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public KvGeometry kvGeometry() {
        return new KvGeometry(numLayers, numHeads, numKvHeads, headDim);
    }

    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": not found; a model directory needs config.json "
                    + "(Hugging Face layout: config.json, *.safetensors, tokenizer.json)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    public static ModelConfig parse(JsonNode root, String source) {
        Fields f = new Fields(root, source);
        JsonNode archs = root.path("architectures");
        String archName = archs.isArray() && archs.size() > 0 ? archs.get(0).asText() : null;
        Architecture arch = archName == null ? null : Architecture.fromHf(archName);
        if (arch == null) {
            throw new CheckpointException(source + ": unsupported architecture " + archName
                    + "; supported: Qwen3ForCausalLM, LlamaForCausalLM");
        }
        int hidden = f.requireInt("hidden_size");
        int heads = f.requireInt("num_attention_heads");
        int kvHeads = root.has("num_key_value_heads") ? f.requireInt("num_key_value_heads") : heads;
        int headDim = root.hasNonNull("head_dim") ? f.requireInt("head_dim") : hidden / heads;

        // transformers 5 nests RoPE settings under rope_parameters; older configs use rope_theta
        // and rope_scaling at the top level.
        JsonNode rope = root.hasNonNull("rope_parameters") ? root.get("rope_parameters") : root.path("rope_scaling");
        double theta = rope.hasNonNull("rope_theta") ? rope.get("rope_theta").asDouble()
                : root.hasNonNull("rope_theta") ? root.get("rope_theta").asDouble() : 10000.0;
        RopeScaling scaling = null;
        String ropeType = rope.hasNonNull("rope_type") ? rope.get("rope_type").asText()
                : rope.path("type").asText("default");
        if (ropeType.equals("llama3")) {
            Fields r = new Fields(rope, source + " rope parameters");
            scaling = new RopeScaling(r.requireDouble("factor"), r.requireDouble("low_freq_factor"),
                    r.requireDouble("high_freq_factor"), r.requireInt("original_max_position_embeddings"));
        } else if (!ropeType.equals("default")) {
            throw new CheckpointException(source + ": unsupported rope_type '" + ropeType + "'; supported: default, llama3");
        }

        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = root.path("eos_token_id");
        if (eosNode.isArray()) {
            eosNode.forEach(n -> eos.add(n.asInt()));
        } else if (eosNode.isInt()) {
            eos.add(eosNode.asInt());
        }
        return new ModelConfig(arch, hidden, f.requireInt("intermediate_size"), f.requireInt("num_hidden_layers"),
                heads, kvHeads, headDim, f.requireInt("vocab_size"),
                root.path("rms_norm_eps").asDouble(1e-6), theta, scaling,
                root.path("max_position_embeddings").asInt(4096),
                root.path("tie_word_embeddings").asBoolean(false),
                root.path("attention_bias").asBoolean(false), List.copyOf(eos));
    }

    private record Fields(JsonNode node, String source) {
        int requireInt(String key) {
            JsonNode v = node.get(key);
            if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
                throw new CheckpointException(source + ": '" + key + "' must be a positive integer, got " + v);
            }
            return v.asInt();
        }

        double requireDouble(String key) {
            JsonNode v = node.get(key);
            if (v == null || !v.isNumber()) {
                throw new CheckpointException(source + ": '" + key + "' must be a number, got " + v);
            }
            return v.asDouble();
        }
    }
}
