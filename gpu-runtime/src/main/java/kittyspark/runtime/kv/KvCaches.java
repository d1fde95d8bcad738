package kittyspark.runtime.kv;

import kittyspark.runtime.checkpoint.KvGeometry;

/** Makes the KV cache of one sequence for a mode. */
public final class KvCaches {
    private KvCaches() {
    }

    public static KvCache create(KvSettings settings, KvGeometry geometry) {
        return switch (settings.mode()) {
            case FP16 -> new FullPrecisionKvCache(geometry);
            case KIVI, KITTY -> new QuantizedKvCache(settings, geometry);
        };
    }
}
