package kittyspark.runtime.kv;

import kittyspark.runtime.checkpoint.KvGeometry;

/** Makes the KV cache of one sequence for a mode. */
public final class KvCaches {
    private KvCaches() {
    }

    public static KvCache create(KvSettings settings, KvGeometry geometry) {
        return create(settings, geometry, AttentionKernel.REFERENCE);
    }

    /** A cache whose attention runs on {@code kernel} (a backend's own, e.g. SIMD). */
    public static KvCache create(KvSettings settings, KvGeometry geometry, AttentionKernel kernel) {
        return switch (settings.mode()) {
            case FP16 -> new FullPrecisionKvCache(geometry, kernel);
            case KIVI, KITTY -> new QuantizedKvCache(settings, geometry, kernel);
        };
    }
}
