package kittyspark.runtime.kv;

import kittyspark.kvquant.KvMemory;

/** Bits per element of a mode's quantized pages (keys and values, data plus metadata). */
public final class KvBits {
    private KvBits() {
    }

    public static double pageBitsPerElement(KvSettings kv, int headDim) {
        if (!kv.quantized()) {
            return KvMemory.FULL_PRECISION_BITS;
        }
        return KvMemory.pageBitsPerElement(kv.quantConfig(), headDim);
    }
}
