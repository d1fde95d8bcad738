package kittyspark.runtime.backend;

import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.engine.EngineOptions;

/** Picks the backend for an engine's device. */
public final class Backends {
    private Backends() {
    }

    public static Backend open(Checkpoint checkpoint, EngineOptions options) {
        if (options.device().equals("cpu")) {
            return new CpuBackend(checkpoint, options.threads());
        }
        throw new IllegalArgumentException("device " + options.device()
                + " needs the CUDA backend, which this build does not include yet; use device 'cpu'");
    }
}
