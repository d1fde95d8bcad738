package kittyspark.jobs.cli;

import java.nio.file.Path;

import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.kv.KvSettings;
import picocli.CommandLine.Option;

/** Options shared by every command that runs the model. */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.json). Default: the bundled demo model.")
    Path model;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", defaultValue = "0", description = "CPU backend threads; 0 = one per core.")
    int threads;

    @Option(names = "--kv", defaultValue = "fp16", description = "KV-cache mode: fp16, kivi or kitty (default: ${DEFAULT-VALUE}).")
    String kv;

    @Option(names = "--kv-boost-fraction", paramLabel = "F",
            description = "Share of key channels boosted to 4 bits per page (kitty default 0.25).")
    Double boostFraction;

    @Option(names = "--kv-sink", paramLabel = "S", description = "Tokens kept in full precision at the start (kitty default 32).")
    Integer sink;

    public Path modelDir() {
        return model != null ? model : KittyHome.demoModel();
    }

    public KvSettings kvSettings() {
        return withOverrides(KvSettings.parse(kv));
    }

    /** Applies --kv-boost-fraction and --kv-sink, when given, to a quantized mode. */
    public KvSettings withOverrides(KvSettings s) {
        if (!s.quantized()) {
            return s;
        }
        if (boostFraction != null) {
            s = s.withBoostFraction(boostFraction);
        }
        if (sink != null) {
            s = s.withSink(sink);
        }
        return s;
    }

    public EngineOptions engineOptions(int maxBatch) {
        // A CUDA device sizes its KV pools for one mode at start-up: --kv's (with its overrides).
        return EngineOptions.cpu(modelDir()).withDevice(device).withThreads(threads).withMaxBatch(maxBatch)
                .withCuda(CudaOptions.DEFAULTS.withPoolKv(kvSettings()));
    }
}
