package kittyspark.runtime.engine;

import kittyspark.kvquant.KvMemory;
import kittyspark.runtime.kv.KvGeometry;
import kittyspark.runtime.kv.QuantizedKvCache;
import kittyspark.runtime.kv.KvSettings;

/** KV bytes a sequence of a given length needs in a mode, for admission by memory budget. */
final class KvFootprint {
    private KvFootprint() {
    }

    static long bytesFor(KvSettings kv, KvGeometry g, long tokens) {
        if (!kv.quantized()) {
            return tokens * g.numLayers() * g.kvWidth() * 2L * Short.BYTES;
        }
        return g.numLayers() * (long) g.numKvHeads()
                * KvMemory.streamBytes(QuantizedKvCache.quantConfig(kv), g.headDim(), tokens);
    }
}
