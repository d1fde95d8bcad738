package kittyspark.checks.cuda;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The fp64 host reference of {@code out[M,N] (+)= (hi + lo)[M,K] . w[N,K]^T} on sampled rows and
 * columns (a whole 2048 x 151936 x 4096 product is too much for the host), and the comparison
 * of a device result with it.
 */
public final class SampledReference {
    private SampledReference() {
    }

    /**
     * Up to {@code count} distinct indices of {@code 0..size-1}: the first and last {@code edge}
     * (where partial tiles are), the rest drawn with {@code rnd}; all of them when few. Sorted.
     */
    public static int[] sample(int size, int count, int edge, SplittableRandom rnd) {
        if (size <= count) {
            int[] all = new int[size];
            Arrays.setAll(all, i -> i);
            return all;
        }
        TreeSet<Integer> s = new TreeSet<>();
        for (int i = 0; i < Math.min(edge, count / 2); i++) {
            s.add(i);
            s.add(size - 1 - i);
        }
        while (s.size() < count) {
            s.add(rnd.nextInt(size));
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * @param hi   bf16 bits of the sampled rows of the operand, [rows][K]
     * @param lo   its low plane (same shape) or null
     * @param w    bf16 bits of the sampled rows of the weight (= output columns), [cols][K]
     * @param init what out held before (added when accumulating), or 0
     * @return [rows][cols]
     */
    public static double[][] compute(short[][] hi, short[][] lo, short[][] w, double init) {
        double[][] ref = new double[hi.length][w.length];
        for (int r = 0; r < hi.length; r++) {
            double[] x = new double[hi[r].length];
            for (int i = 0; i < x.length; i++) {
                x[i] = bf16(hi[r][i]) + (lo == null ? 0 : bf16(lo[r][i]));
            }
            for (int c = 0; c < w.length; c++) {
                double sum = init;
                for (int i = 0; i < x.length; i++) {
                    sum += x[i] * bf16(w[c][i]);
                }
                ref[r][c] = sum;
            }
        }
        return ref;
    }

    /**
     * Relative Frobenius error of {@code out} on the sampled entries, or infinity when any entry
     * of the given rows (all their columns, sampled or not) is not finite: a column a kernel
     * never wrote stays at the NaN the check poisons it with.
     *
     * @param outRows the device result's sampled rows, whole: [rows][N]
     * @param cols    the sampled columns
     */
    public static double relativeError(float[][] outRows, int[] cols, double[][] ref) {
        double num = 0;
        double den = 0;
        for (int r = 0; r < outRows.length; r++) {
            for (float v : outRows[r]) {
                if (!Float.isFinite(v)) {
                    return Double.POSITIVE_INFINITY;
                }
            }
            for (int c = 0; c < cols.length; c++) {
                double d = outRows[r][cols[c]] - ref[r][c];
                num += d * d;
                den += ref[r][c] * ref[r][c];
            }
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    public static float bf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
