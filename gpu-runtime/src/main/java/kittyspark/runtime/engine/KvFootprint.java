package kittyspark.runtime.engine;

import kittyspark.runtime.kv.KvGeometry;
import kittyspark.runtime.kv.KvSettings;

/** KV bytes a sequence of a given length needs in a mode, for admission by memory budget. */
final class KvFootprint {
    private KvFootprint() {
    }

    static long bytesFor(KvSettings kv, KvGeometry g, long tokens) {
        // Full precision: keys and values, fp16, every layer. Quantized modes are bounded by it.
        return tokens * g.numLayers() * g.kvWidth() * 2L * Short.BYTES;
    }
}
