package kittyspark.runtime.backend.cuda.kitty;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The decode-attention kernels over Kitty / KIVI pages (gpu-runtime/src/main/cuda/kitty_attention.cu),
 * by the name {@code kitty.engine.cuda.kitty-attention} takes. They compute the same attention
 * (each checked against a float64 reference); they differ in how the 2-bit codes reach the
 * tensor cores.
 */
public enum KittyAttentionVariant {
    /** One warp per split, codes as u8 operands of integer tensor-core products (the default). */
    I8("i8", "kitty_attention_i8", 32),
    /** Four warps per split, pages by TMA bulk copies, codes as bf16 operands. */
    BULK("bulk", "kitty_attention_bulk", 128),
    /** As {@link #BULK}, with the pages staged by 16-byte cp.async. */
    CP_ASYNC("cp-async", "kitty_attention", 128);

    // i8 passed the device checks against the float64 reference and the bulk kernel, and reads
    // the pages faster (33.6% vs 26.4% of copy bandwidth on the H200).
    public static final KittyAttentionVariant DEFAULT = I8;

    private final String configName;
    private final String kernelPrefix;
    private final int threads;

    KittyAttentionVariant(String configName, String kernelPrefix, int threads) {
        this.configName = configName;
        this.kernelPrefix = kernelPrefix;
        this.threads = threads;
    }

    /** The variant named {@code name} (case-insensitive); bad names fail naming the key and the choices. */
    public static KittyAttentionVariant parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (KittyAttentionVariant v : values()) {
            if (v.configName.equals(n)) {
                return v;
            }
        }
        throw new IllegalArgumentException("kitty.engine.cuda.kitty-attention must be one of "
                + Arrays.stream(values()).map(KittyAttentionVariant::configName).collect(Collectors.joining(", "))
                + ", got '" + name + "'");
    }

    public String configName() {
        return configName;
    }

    /** Threads per block. */
    public int threads() {
        return threads;
    }

    /** The compiled kernel for a head dim and a (padded) GQA group. */
    public String kernel(int headDim, int group) {
        return kernelPrefix + "_d" + headDim + "_g" + group;
    }
}
