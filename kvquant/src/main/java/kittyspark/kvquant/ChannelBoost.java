package kittyspark.kvquant;

import java.util.Arrays;

/**
 * Dynamic Channel-wise Precision Boost: per page, the {@code boosted} key channels with the
 * largest mean |k| over the page's tokens get 4 bits; ties go to the lower channel index. The
 * choice is made afresh for every page (no calibration, no state across pages).
 */
public final class ChannelBoost {
    private ChannelBoost() {
    }

    /** Channels boosted for a head: {@code round(f * headDim)}. */
    public static int boostedChannels(double fraction, int headDim) {
        return (int) Math.round(fraction * headDim);
    }

    /**
     * @param keys   row-major keys, token t channel d at {@code off + t * stride + d}
     * @return the boosted channels in rank order (slot 0 has the largest score)
     */
    public static int[] select(float[] keys, int off, int stride, int tokens, int headDim, int boosted) {
        if (boosted == 0) {
            return new int[0];
        }
        float[] score = new float[headDim];
        for (int t = 0; t < tokens; t++) {
            int row = off + t * stride;
            for (int d = 0; d < headDim; d++) {
                score[d] += Math.abs(keys[row + d]);
            }
        }
        for (int d = 0; d < headDim; d++) {
            score[d] /= tokens;
        }
        Integer[] order = new Integer[headDim];
        for (int d = 0; d < headDim; d++) {
            order[d] = d;
        }
        Arrays.sort(order, (a, b) -> score[a] != score[b] ? Float.compare(score[b], score[a]) : Integer.compare(a, b));
        int[] out = new int[boosted];
        for (int s = 0; s < boosted; s++) {
            out[s] = order[s];
        }
        return out;
    }
}
