package kittyspark.runtime.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded model on its device without a scheduler: the checkpoint's config, the tokenizer, the
 * backend and the end-of-sequence ids. Scoring and KV evaluation use it directly (they drive
 * the backend step by step themselves); a {@link GenerationEngine} is built on one.
 */
public final class ModelRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRuntime.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Backend backend;
    private final Tokenizer tokenizer;
    private final String modelName;
    private final Set<Integer> eosIds;

    public ModelRuntime(Backend backend, Tokenizer tokenizer, String modelName, Set<Integer> eosIds) {
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.modelName = modelName;
        this.eosIds = Set.copyOf(eosIds);
    }

    /** Loads the checkpoint and tokenizer of {@code options.modelDir()} onto {@code options.device()}. */
    public static ModelRuntime open(EngineOptions options) {
        Path dir = options.modelDir();
        Checkpoint ckpt = Checkpoint.open(dir);
        Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"));
        Backend backend = Backends.open(ckpt, options);
        LOG.info("model {} ({}, {} layers, hidden {}) on {}", dir.getFileName(), ckpt.config().architecture().hfName(),
                ckpt.config().numLayers(), ckpt.config().hiddenSize(), backend.device());
        return new ModelRuntime(backend, tok, dir.getFileName().toString(), eosIds(dir, ckpt.config()));
    }

    /** EOS ids from config.json and, where present, generation_config.json (chat models list several). */
    static Set<Integer> eosIds(Path dir, ModelConfig config) {
        Set<Integer> ids = new HashSet<>(config.eosTokenIds());
        Path gen = dir.resolve("generation_config.json");
        if (Files.isRegularFile(gen)) {
            try {
                JsonNode eos = JSON.readTree(gen.toFile()).path("eos_token_id");
                if (eos.isArray()) {
                    eos.forEach(n -> ids.add(n.asInt()));
                } else if (eos.isInt()) {
                    ids.add(eos.asInt());
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(gen + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        return ids;
    }

    public Backend backend() {
        return backend;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelConfig config() {
        return backend.config();
    }

    public String modelName() {
        return modelName;
    }

    public Set<Integer> eosIds() {
        return eosIds;
    }

    @Override
    public void close() {
        backend.close();
    }
}
