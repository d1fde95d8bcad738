package kittyspark.runtime.backend.cuda.kitty;

import java.util.List;

/**
 * Names and launch shapes of the Kitty page kernels: the quantizers (kitty_quantize.ptx) and the
 * decode attention with its combine (kitty_attention.ptx), built from gpu-runtime/src/main/cuda.
 * The attention kernels are compiled per head dim and GQA group size; this record says whether a
 * model shape has them and what they are called.
 */
public record KittyKernels(int headDim, int groupSize) {
    /** The PTX modules, loaded only by a backend that holds quantized pages. */
    public static final List<String> MODULES = List.of("kitty_quantize", "kitty_attention");
    /** Tokens per page the attention kernels are compiled for. */
    public static final int PAGE_SIZE = 128;
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

    /** Boosted key channels the attention kernels hold: at most half the channels. */
    public int maxBoosted() {
        return headDim / 2;
    }

    /** The decode-attention kernel of {@code v} for this shape. */
    public String attention(KittyAttentionVariant v) {
        return v.kernel(headDim, groupSize);
    }

    /** Dynamic shared memory a launch of {@code v} needs (the four-warp variants use static memory only). */
    public int attentionSharedBytes(KittyAttentionVariant v, int boosted) {
        return v == KittyAttentionVariant.I8 ? i8SharedBytes(boosted) : 0;
    }

    /**
     * kitty_attention_i8.cuh's {@code i8_shared_bytes}: one stage for a key page (with room for
     * every high-plane row its boosted k-tiles read) and one for a value page, the two B operands
     * (digit columns, rows padded to 4 mod 8 words), and an mbarrier per stage.
     */
    public int i8SharedBytes(int boosted) {
        if (boosted < 0 || boosted > maxBoosted()) {
            throw new IllegalArgumentException("boosted channels must be in [0, " + maxBoosted() + "], got " + boosted);
        }
        int d = headDim;
        int g = groupSize;
        int ncol = 8 * (g == 8 ? 3 : 2);
        int keyRowWords = (d + 32 * (d / 64)) / 4;
        int keyStride = (keyRowWords + 3) / 8 * 8 + 4;
        int keyOperand = ncol * keyStride * 4;
        int valueOperand = Math.max(ncol * 36 * 4, Math.max(4 * g * d, 512 * g));
        int keyPage = 32 * (d + boosted) + (boosted > 0 ? d : 0) + 4 * d;
        int keyRows = 32 * (d + 32 * ((boosted + 31) / 32));
        int keyStage = (Math.max(keyPage, keyRows) + 15) / 16 * 16;
        int valueStage = PAGE_SIZE * (d / 4) + 4 * PAGE_SIZE;
        return keyStage + valueStage + keyOperand + valueOperand + 16;
    }

    public static String quantizeKeys(boolean fp16Source) {
        return fp16Source ? "kitty_quantize_keys_f16" : "kitty_quantize_keys_f32";
    }

    public static String quantizeValues(boolean fp16Source) {
        return fp16Source ? "kitty_quantize_values_f16" : "kitty_quantize_values_f32";
    }
}
