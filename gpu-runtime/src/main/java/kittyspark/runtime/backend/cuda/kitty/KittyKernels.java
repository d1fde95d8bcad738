package kittyspark.runtime.backend.cuda.kitty;

/**
 * Names and fixed launch shapes of the kernels in {@code kitty_pages.ptx} (built from
 * gpu-runtime/src/main/cuda/kitty_pages.cu). The attention kernel is compiled per head dim and
 * GQA group size; this record says whether a model shape has one and what it is called.
 */
public record KittyKernels(int headDim, int groupSize) {
    /** Classpath resource of the PTX. */
    public static final String PTX_RESOURCE = "/kittyspark/cuda/kitty_pages.ptx";
    /** Tokens per page the attention kernels are compiled for. */
    public static final int PAGE_SIZE = 128;
    public static final int ATTENTION_THREADS = 128;
    public static final int COMBINE_THREADS = 128;
    public static final String COMBINE = "kitty_attention_combine";

    public KittyKernels {
        if (!supported(headDim, groupSize)) {
            throw new IllegalArgumentException("no Kitty attention kernel for head_dim " + headDim + " and GQA group "
                    + groupSize + " (compiled: head_dim 64/128, group 1/2/4/8)");
        }
    }

    public static boolean supported(int headDim, int groupSize) {
        return (headDim == 64 || headDim == 128)
                && (groupSize == 1 || groupSize == 2 || groupSize == 4 || groupSize == 8);
    }

    /** Boosted key channels the attention kernel's shared memory holds: at most half the channels. */
    public int maxBoosted() {
        return headDim / 2;
    }

    /**
     * The decode-attention kernel: the variant whose pages arrive by TMA bulk copies on an
     * mbarrier, the faster of the two on the H100 (docs/bench/kitty-kernels.md: 326 vs 348 us
     * per layer at batch 64, 8K context). Needs sm_90.
     */
    public String attention() {
        return "kitty_attention_bulk_d" + headDim + "_g" + groupSize;
    }

    /** The same attention with pages staged by 16-byte cp.async (slightly faster at batch 1). */
    public String attentionCpAsync() {
        return "kitty_attention_d" + headDim + "_g" + groupSize;
    }

    public static String quantizeKeys(boolean fp16Source) {
        return fp16Source ? "kitty_quantize_keys_f16" : "kitty_quantize_keys_f32";
    }

    public static String quantizeValues(boolean fp16Source) {
        return fp16Source ? "kitty_quantize_values_f16" : "kitty_quantize_values_f32";
    }
}
