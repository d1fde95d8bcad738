package kittyspark.runtime.engine;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.backend.cuda.CudaBackend;
import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.checkpoint.Checkpoint;

/** Picks the backend for an engine's device: "cpu" or "cuda:N". */
public final class Backends {
    private Backends() {
    }

    public static Backend open(Checkpoint checkpoint, EngineOptions options) {
        if (options.device().equals("cpu")) {
            return new CpuBackend(checkpoint, options.threads());
        }
        if (options.device().matches("cuda:\\d+")) {
            // Fails with CudaUnavailableException (no driver, no such device) before touching the weights.
            return CudaBackend.open(checkpoint, CudaSettings.of(options.device(), options.maxBatch(), options.prefillChunk(),
                    options.kvBudgetBytes(), options.cuda(), checkpoint.config()));
        }
        throw new IllegalArgumentException("device must be 'cpu' or 'cuda:N', got '" + options.device() + "'");
    }
}
