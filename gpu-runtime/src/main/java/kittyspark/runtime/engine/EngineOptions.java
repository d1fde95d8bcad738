package kittyspark.runtime.engine;

import java.nio.file.Path;

import kittyspark.runtime.backend.cuda.CudaOptions;

/**
 * How to build an engine.
 *
 * @param modelDir      Hugging Face model directory
 * @param device        "cpu", or "cuda:N" for GPU N
 * @param threads       CPU backend worker threads (0: one per available core)
 * @param maxBatch      most sequences decoded together
 * @param kvBudgetBytes KV memory the scheduler may fill (0: derive from the device)
 * @param prefillChunk  most prompt tokens fed in one forward step, per sequence
 * @param cuda          the CUDA backend's tuning (unused on the CPU)
 */
public record EngineOptions(Path modelDir, String device, int threads, int maxBatch, long kvBudgetBytes, int prefillChunk,
                            CudaOptions cuda) {
    public EngineOptions {
        if (modelDir == null) {
            throw new IllegalArgumentException("model directory is required");
        }
        if (device == null || !(device.equals("cpu") || device.matches("cuda:\\d+"))) {
            throw new IllegalArgumentException("device must be 'cpu' or 'cuda:N', got '" + device + "'");
        }
        if (cuda == null) {
            cuda = CudaOptions.DEFAULTS;
        }
        if (threads < 0 || maxBatch <= 0 || kvBudgetBytes < 0 || prefillChunk <= 0) {
            throw new IllegalArgumentException("threads >= 0, max batch > 0, KV budget >= 0 and prefill chunk > 0 required");
        }
    }

    public static EngineOptions cpu(Path modelDir) {
        return new EngineOptions(modelDir, "cpu", 0, 16, 0, 2048, CudaOptions.DEFAULTS);
    }

    public EngineOptions withDevice(String d) {
        return new EngineOptions(modelDir, d, threads, maxBatch, kvBudgetBytes, prefillChunk, cuda);
    }

    public EngineOptions withMaxBatch(int b) {
        return new EngineOptions(modelDir, device, threads, b, kvBudgetBytes, prefillChunk, cuda);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(modelDir, device, t, maxBatch, kvBudgetBytes, prefillChunk, cuda);
    }

    public EngineOptions withKvBudgetBytes(long b) {
        return new EngineOptions(modelDir, device, threads, maxBatch, b, prefillChunk, cuda);
    }

    public EngineOptions withCuda(CudaOptions c) {
        return new EngineOptions(modelDir, device, threads, maxBatch, kvBudgetBytes, prefillChunk, c);
    }
}
