package kittyspark.runtime.kv;

import kittyspark.kvquant.KvMemory;
import kittyspark.runtime.checkpoint.KvGeometry;

/** KV bytes a sequence of a given length needs in a mode, for admission by memory budget. */
public final class KvFootprint {
    private KvFootprint() {
    }

    public static long bytesFor(KvSettings kv, KvGeometry g, long tokens) {
        if (!kv.quantized()) {
            return tokens * g.numLayers() * g.kvWidth() * 2L * Short.BYTES;
        }
        return g.numLayers() * (long) g.numKvHeads()
                * KvMemory.streamBytes(kv.quantConfig(), g.headDim(), tokens);
    }
}
