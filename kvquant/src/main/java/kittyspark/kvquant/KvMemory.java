package kittyspark.kvquant;

/** How many bits the quantized cache spends per cached element. */
public final class KvMemory {
    /** Full-precision elements are counted as fp16, as a device stores them. */
    public static final int FULL_PRECISION_BITS = 16;

    private KvMemory() {
    }

    /** Bits per key element of a page: data plus metadata (and the channel index when boosting). */
    public static double keyBitsPerElement(QuantConfig c, int headDim) {
        return 8.0 * c.keyLayout(headDim).bytes() / ((double) c.pageSize() * headDim);
    }

    public static double valueBitsPerElement(QuantConfig c, int headDim) {
        return 8.0 * c.valueLayout(headDim).bytes() / ((double) c.pageSize() * headDim);
    }

    /** Keys and values together, pages only. */
    public static double pageBitsPerElement(QuantConfig c, int headDim) {
        return (keyBitsPerElement(c, headDim) + valueBitsPerElement(c, headDim)) / 2;
    }

    /**
     * Bytes one KV head of one layer holds for a sequence of {@code tokens}, full-precision
     * regions included, once every page that can be made has been made.
     */
    public static long streamBytes(QuantConfig c, int headDim, long tokens) {
        long keyPages = c.keyPages(tokens);
        long valuePages = c.valuePages(tokens);
        long rawKeys = tokens - keyPages * c.pageSize();
        long rawValues = tokens - valuePages * c.pageSize();
        return keyPages * c.keyLayout(headDim).bytes() + valuePages * c.valueLayout(headDim).bytes()
                + (rawKeys + rawValues) * headDim * (FULL_PRECISION_BITS / 8);
    }
}
