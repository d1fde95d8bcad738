package kittyspark.runtime.backend.cpu;

import kittyspark.runtime.kv.AttentionKernel;

/**
 * An attention kernel whose long calls (a prefill's query rows) are split over the backend's
 * threads. Rows are independent, so the split changes nothing but the time: a cache attends
 * for one sequence, and without this a single long prompt would run on one thread.
 */
final class PooledAttention implements AttentionKernel {
    /** Multiply-adds (query rows x keys x channels x heads) below which one thread does it all. */
    private static final long MIN_SPLIT_WORK = 1L << 20;

    private final AttentionKernel kernel;
    private final WorkerPool pool;

    PooledAttention(AttentionKernel kernel, WorkerPool pool) {
        this.kernel = kernel;
        this.pool = pool;
    }

    @Override
    public void causalRows(float[] keys, int kvOff, int kvStride, float[] values, int length, int headDim,
                           float[] q, int qOff, int qStride, int heads, int n, int rowFrom, int rowTo, float[] out) {
        int rows = rowTo - rowFrom;
        long work = (long) rows * length * headDim * heads;
        if (rows < 2 || work < MIN_SPLIT_WORK) {
            kernel.causalRows(keys, kvOff, kvStride, values, length, headDim, q, qOff, qStride, heads, n, rowFrom, rowTo, out);
            return;
        }
        int grain = (int) Math.max(1, MIN_SPLIT_WORK / Math.max(1, work / rows));
        pool.forRange(rows, grain, (a, b) -> kernel.causalRows(keys, kvOff, kvStride, values, length, headDim,
                q, qOff, qStride, heads, n, rowFrom + a, rowFrom + b, out));
    }
}
