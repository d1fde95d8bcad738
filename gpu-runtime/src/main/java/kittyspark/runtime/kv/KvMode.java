package kittyspark.runtime.kv;

import java.util.Locale;

/** How the KV cache stores keys and values. */
public enum KvMode {
    /** No quantization: the reference. */
    FP16,
    /** KIVI-2: 2-bit keys per channel and values per token, no boost, no sink. */
    KIVI,
    /** KIVI plus Dynamic Channel-wise Precision Boost and a full-precision sink. */
    KITTY;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static KvMode parse(String s) {
        for (KvMode m : values()) {
            if (m.id().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown KV mode '" + s + "': use fp16, kivi or kitty");
    }
}
