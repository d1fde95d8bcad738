package kittyspark.runtime.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Hugging Face model directory: {@code config.json} and the weights, from one
 * {@code model.safetensors} or the shards listed in {@code model.safetensors.index.json}.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final ModelConfig config;
    private final Map<String, WeightTensor> tensors;
    private final Map<String, Path> tensorFiles;

    private Checkpoint(Path dir, ModelConfig config, Map<String, WeightTensor> tensors, Map<String, Path> tensorFiles) {
        this.dir = dir;
        this.config = config;
        this.tensors = tensors;
        this.tensorFiles = tensorFiles;
    }

    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir + ": model directory not found");
        }
        ModelConfig config = ModelConfig.load(dir);
        Map<String, WeightTensor> tensors = new LinkedHashMap<>();
        Map<String, Path> files = new HashMap<>();
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            Map<String, String> weightMap = readIndex(index);
            Map<String, SafetensorsFile> opened = new HashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                Path shard = dir.resolve(e.getValue());
                if (!Files.isRegularFile(shard)) {
                    throw new CheckpointException(index + ": tensor " + e.getKey() + " is in shard " + shard
                            + ", which does not exist");
                }
                SafetensorsFile f = opened.computeIfAbsent(e.getValue(), k -> SafetensorsFile.open(shard));
                WeightTensor t = f.tensors().get(e.getKey());
                if (t == null) {
                    throw new CheckpointException(shard + ": tensor " + e.getKey() + " is listed in " + index
                            + " but missing from the shard");
                }
                tensors.put(e.getKey(), t);
                files.put(e.getKey(), shard);
            }
            opened.values().forEach(SafetensorsFile::close);
        } else if (Files.isRegularFile(single)) {
            try (SafetensorsFile f = SafetensorsFile.open(single)) {
                tensors.putAll(f.tensors());
                f.tensors().keySet().forEach(k -> files.put(k, single));
            }
        } else {
            throw new CheckpointException(dir + ": no weights: expected model.safetensors or model.safetensors.index.json");
        }
        return new Checkpoint(dir, config, tensors, files);
    }

    private static Map<String, String> readIndex(Path index) {
        try {
            JsonNode root = JSON.readTree(index.toFile());
            JsonNode map = root.path("weight_map");
            if (!map.isObject()) {
                throw new CheckpointException(index + ": no weight_map object");
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), e.getValue().asText());
            }
            return out;
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor, or a failure naming the model directory and the tensor. */
    public WeightTensor tensor(String name) {
        WeightTensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(dir + ": missing tensor " + name + " (a " + config.architecture().hfName()
                    + " checkpoint needs it)");
        }
        return t;
    }

    /** The file a tensor was read from. */
    public Path fileOf(String name) {
        return tensorFiles.get(name);
    }

    public Map<String, WeightTensor> tensors() {
        return tensors;
    }
}
