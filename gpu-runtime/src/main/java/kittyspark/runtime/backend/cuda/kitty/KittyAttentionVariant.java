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
    I8("i8", "kitty_attention_i8", 32, 0.6),
    /** Four warps per split, pages by TMA bulk copies, codes as bf16 operands. */
    BULK("bulk", "kitty_attention_bulk", 128, 4.0),
    /** As {@link #BULK}, with the pages staged by 16-byte cp.async. */
    CP_ASYNC("cp-async", "kitty_attention", 128, 4.0);

    // i8 passed the device checks against the float64 reference and the bulk kernel, and reads
    // the pages faster (33.6% vs 26.4% of copy bandwidth on the H200).
    public static final KittyAttentionVariant DEFAULT = I8;

    private final String configName;
    private final String kernelPrefix;
    private final int threads;
    private final double fill;

    KittyAttentionVariant(String configName, String kernelPrefix, int threads, double fill) {
        this.configName = configName;
        this.kernelPrefix = kernelPrefix;
        this.threads = threads;
        this.fill = fill;
    }

    /** The largest {@link #fill()} of any variant: what the partial-result workspace is sized for. */
    public static double maxFill() {
        return Arrays.stream(values()).mapToDouble(KittyAttentionVariant::fill).max().orElseThrow();
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

    /**
     * Blocks with work per resident block slot that the split plan aims for
     * ({@link KittyAttentionPlan}). Measured on the H200 over every split count at batch 64 and
     * 256 x 8K: i8 is issue-bound within an SM, so once the SMs hold about 8 of its warps a split
     * more only adds its prologue, epilogue and combine (fastest at 0.65 and 1.3 slots' worth of
     * blocks, up to 11% faster than at 4 waves); the four-warp bulk kernels wait at block barriers
     * and are fastest at 4 to 5 waves.
     */
    public double fill() {
        return fill;
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
