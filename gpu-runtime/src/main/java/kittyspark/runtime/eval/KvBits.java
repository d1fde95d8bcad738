package kittyspark.runtime.eval;

import kittyspark.runtime.kv.KvSettings;

/** Bits per element of a mode's quantized pages (keys and values, data plus metadata). */
public final class KvBits {
    private KvBits() {
    }

    public static double pageBitsPerElement(KvSettings kv, int headDim) {
        if (!kv.quantized()) {
            return 16.0;
        }
        int p = kv.pageSize();
        int boosted = (int) Math.round(kv.boostFraction() * headDim);
        // Key page: low plane (2 bits for every channel), high plane (2 more bits for boosted
        // channels), a one-byte channel index per channel when any channel is boosted, fp16
        // scale and min per channel.
        double keyBytes = headDim * p / 4.0 + boosted * p / 4.0 + (boosted > 0 ? headDim : 0) + headDim * 4.0;
        // Value page: 2 bits per element, fp16 scale and min per token.
        double valueBytes = headDim * p / 4.0 + p * 4.0;
        return 8 * (keyBytes + valueBytes) / (2.0 * p * headDim);
    }
}
