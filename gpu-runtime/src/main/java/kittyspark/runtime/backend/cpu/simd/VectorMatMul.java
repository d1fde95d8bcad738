package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import kittyspark.runtime.backend.cpu.MatMul;
import kittyspark.runtime.backend.cpu.ScalarMatMul;
import kittyspark.runtime.checkpoint.DType;
import kittyspark.runtime.checkpoint.WeightTensor;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static kittyspark.runtime.backend.cpu.simd.Lanes.I;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * The matrix product on SIMD registers, bit for bit {@link ScalarMatMul}: lane j of a register
 * is weight row {@code o + j}, and two registers hold, for L rows at once, the scalar code's
 * two chains (even-indexed and odd-indexed products, each in index order, multiply then add),
 * so no sum is ever split across lanes.
 *
 * <p>That needs the weights column-wise within a block of L rows, so they are repacked once,
 * at load, onto the heap (the same bytes as the checkpoint; the mapped file is not read again):
 * bf16 as int pairs, {@code packed[(block * pairs + p) * L + j]} holding row {@code block*L+j}'s
 * elements {@code 2p} (low half) and {@code 2p+1} (high half), widened in registers by a shift
 * and a mask; f16 and f32 as fp32 (f16 widened exactly at load, so twice its bytes). Rows past
 * the last whole block of L that lies within whole blocks of four go through the scalar code.
 * Each output ends as {@code even + odd}, the scalar code's last step.
 *
 * <p>One input row (decoding one sequence) runs four row blocks at a time; a batch runs tiles
 * of four input rows per block, the block's weights reused from cache for every tile.
 */
final class VectorMatMul implements MatMul {
    /**
     * Multiply-adds that make one thread's share worth a hand-over to another thread: waking a
     * pool thread costs tens of microseconds, about what a million of these take, so a decode
     * step's small products run on the calling thread and only the large ones are split.
     */
    private static final long MIN_MACS_PER_CHUNK = 1L << 20;

    private final ScalarMatMul rest;
    private final int in;
    private final int out;
    private final int pairs;
    /** Rows [0, vectorRows) are in whole blocks of L; the rest go to {@link #rest}. */
    private final int vectorRows;
    /** bf16 pairs, or null. */
    private final int[] packed;
    /** fp32, {@code [(block * pairs + p) * 2L + j]} element 2p, {@code + L} element 2p+1; or null. */
    private final float[] wide;

    /** @param weight with an even row length ({@link VectorKernels} sends odd ones to the scalar code) */
    VectorMatMul(WeightTensor weight) {
        if (weight.cols() % 2 != 0) {
            throw new IllegalArgumentException(weight.name() + ": the SIMD product needs an even row length, got " + weight.cols());
        }
        this.rest = new ScalarMatMul(weight);
        this.in = weight.cols();
        this.out = weight.rows();
        this.pairs = in / 2;
        this.vectorRows = (out - out % 4) / L * L;
        boolean bf16 = weight.dtype() == DType.BF16;
        this.packed = bf16 ? new int[vectorRows * pairs] : null;
        this.wide = bf16 ? null : new float[vectorRows * pairs * 2];
        float[] row = new float[in];
        for (int o = 0; o < vectorRows; o++) {
            int block = o / L;
            int j = o % L;
            if (bf16) {
                java.nio.ByteBuffer b = weight.rowBuffer(o);
                int off = weight.rowByteOffset(o);
                for (int p = 0; p < pairs; p++) {
                    packed[(block * pairs + p) * L + j] = b.getInt(off + 4 * p);
                }
            } else {
                weight.readRow(o, row, 0);
                for (int p = 0; p < pairs; p++) {
                    wide[(block * pairs + p) * 2 * L + j] = row[2 * p];
                    wide[(block * pairs + p) * 2 * L + L + j] = row[2 * p + 1];
                }
            }
        }
    }

    @Override
    public int blockRows() {
        return L;
    }

    @Override
    public int grain(int n) {
        return (int) Math.max(1, MIN_MACS_PER_CHUNK / ((long) L * in * Math.max(1, n)));
    }

    @Override
    public float[] prepare(float[] x, int n) {
        return x;
    }

    @Override
    public void rows(float[] x, int n, float[] y, int from, int to) {
        int b0 = from / L;
        int b1 = Math.min(to, vectorRows) / L;
        if (b1 > b0) {
            int b = b0;
            if (n == 1) {
                for (; b + 4 <= b1; b += 4) {
                    if (packed != null) {
                        oneRowFourBlocks(x, y, b);
                    } else {
                        oneRowFourBlocksWide(x, y, b);
                    }
                }
            }
            for (; b < b1; b++) {
                int r = 0;
                for (; r + 4 <= n; r += 4) {
                    if (packed != null) {
                        fourRows(x, r, y, b);
                    } else {
                        fourRowsWide(x, r, y, b);
                    }
                }
                for (; r < n; r++) {
                    oneRow(x, r, y, b);
                }
            }
        }
        if (to > vectorRows) {
            rest.rows(x, n, y, Math.max(from, vectorRows), to);
        }
    }

    /** Input row 0 against blocks b..b+3 (decoding one sequence): eight chains in flight. */
    private void oneRowFourBlocks(float[] x, float[] y, int b) {
        int s = pairs * L;
        int w0 = b * s, w1 = w0 + s, w2 = w1 + s, w3 = w2 + s;
        FloatVector e0 = FloatVector.zero(F), e1 = e0, e2 = e0, e3 = e0;
        FloatVector d0 = e0, d1 = e0, d2 = e0, d3 = e0;
        for (int p = 0; p < pairs; p++) {
            FloatVector xe = FloatVector.broadcast(F, x[2 * p]);
            FloatVector xo = FloatVector.broadcast(F, x[2 * p + 1]);
            int at = p * L;
            IntVector v0 = IntVector.fromArray(I, packed, w0 + at);
            IntVector v1 = IntVector.fromArray(I, packed, w1 + at);
            IntVector v2 = IntVector.fromArray(I, packed, w2 + at);
            IntVector v3 = IntVector.fromArray(I, packed, w3 + at);
            e0 = e0.add(evenOf(v0).mul(xe));
            d0 = d0.add(oddOf(v0).mul(xo));
            e1 = e1.add(evenOf(v1).mul(xe));
            d1 = d1.add(oddOf(v1).mul(xo));
            e2 = e2.add(evenOf(v2).mul(xe));
            d2 = d2.add(oddOf(v2).mul(xo));
            e3 = e3.add(evenOf(v3).mul(xe));
            d3 = d3.add(oddOf(v3).mul(xo));
        }
        e0.add(d0).intoArray(y, b * L);
        e1.add(d1).intoArray(y, (b + 1) * L);
        e2.add(d2).intoArray(y, (b + 2) * L);
        e3.add(d3).intoArray(y, (b + 3) * L);
    }

    private void oneRowFourBlocksWide(float[] x, float[] y, int b) {
        int s = pairs * 2 * L;
        int w0 = b * s, w1 = w0 + s, w2 = w1 + s, w3 = w2 + s;
        FloatVector e0 = FloatVector.zero(F), e1 = e0, e2 = e0, e3 = e0;
        FloatVector d0 = e0, d1 = e0, d2 = e0, d3 = e0;
        for (int p = 0; p < pairs; p++) {
            FloatVector xe = FloatVector.broadcast(F, x[2 * p]);
            FloatVector xo = FloatVector.broadcast(F, x[2 * p + 1]);
            int at = p * 2 * L;
            e0 = e0.add(FloatVector.fromArray(F, wide, w0 + at).mul(xe));
            d0 = d0.add(FloatVector.fromArray(F, wide, w0 + at + L).mul(xo));
            e1 = e1.add(FloatVector.fromArray(F, wide, w1 + at).mul(xe));
            d1 = d1.add(FloatVector.fromArray(F, wide, w1 + at + L).mul(xo));
            e2 = e2.add(FloatVector.fromArray(F, wide, w2 + at).mul(xe));
            d2 = d2.add(FloatVector.fromArray(F, wide, w2 + at + L).mul(xo));
            e3 = e3.add(FloatVector.fromArray(F, wide, w3 + at).mul(xe));
            d3 = d3.add(FloatVector.fromArray(F, wide, w3 + at + L).mul(xo));
        }
        e0.add(d0).intoArray(y, b * L);
        e1.add(d1).intoArray(y, (b + 1) * L);
        e2.add(d2).intoArray(y, (b + 2) * L);
        e3.add(d3).intoArray(y, (b + 3) * L);
    }

    /** Input rows r..r+3 against block b: the block's weights are read once for the four. */
    private void fourRows(float[] x, int r, float[] y, int b) {
        int wb = b * pairs * L;
        int x0 = r * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector e0 = FloatVector.zero(F), e1 = e0, e2 = e0, e3 = e0;
        FloatVector d0 = e0, d1 = e0, d2 = e0, d3 = e0;
        for (int p = 0; p < pairs; p++) {
            IntVector v = IntVector.fromArray(I, packed, wb + p * L);
            FloatVector we = evenOf(v);
            FloatVector wo = oddOf(v);
            int i = 2 * p;
            e0 = e0.add(we.mul(x[x0 + i]));
            d0 = d0.add(wo.mul(x[x0 + i + 1]));
            e1 = e1.add(we.mul(x[x1 + i]));
            d1 = d1.add(wo.mul(x[x1 + i + 1]));
            e2 = e2.add(we.mul(x[x2 + i]));
            d2 = d2.add(wo.mul(x[x2 + i + 1]));
            e3 = e3.add(we.mul(x[x3 + i]));
            d3 = d3.add(wo.mul(x[x3 + i + 1]));
        }
        e0.add(d0).intoArray(y, r * out + b * L);
        e1.add(d1).intoArray(y, (r + 1) * out + b * L);
        e2.add(d2).intoArray(y, (r + 2) * out + b * L);
        e3.add(d3).intoArray(y, (r + 3) * out + b * L);
    }

    private void fourRowsWide(float[] x, int r, float[] y, int b) {
        int wb = b * pairs * 2 * L;
        int x0 = r * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector e0 = FloatVector.zero(F), e1 = e0, e2 = e0, e3 = e0;
        FloatVector d0 = e0, d1 = e0, d2 = e0, d3 = e0;
        for (int p = 0; p < pairs; p++) {
            FloatVector we = FloatVector.fromArray(F, wide, wb + p * 2 * L);
            FloatVector wo = FloatVector.fromArray(F, wide, wb + p * 2 * L + L);
            int i = 2 * p;
            e0 = e0.add(we.mul(x[x0 + i]));
            d0 = d0.add(wo.mul(x[x0 + i + 1]));
            e1 = e1.add(we.mul(x[x1 + i]));
            d1 = d1.add(wo.mul(x[x1 + i + 1]));
            e2 = e2.add(we.mul(x[x2 + i]));
            d2 = d2.add(wo.mul(x[x2 + i + 1]));
            e3 = e3.add(we.mul(x[x3 + i]));
            d3 = d3.add(wo.mul(x[x3 + i + 1]));
        }
        e0.add(d0).intoArray(y, r * out + b * L);
        e1.add(d1).intoArray(y, (r + 1) * out + b * L);
        e2.add(d2).intoArray(y, (r + 2) * out + b * L);
        e3.add(d3).intoArray(y, (r + 3) * out + b * L);
    }

    /** One input row against one block (the rows a batch has past its last tile of four). */
    private void oneRow(float[] x, int r, float[] y, int b) {
        int xo = r * in;
        FloatVector e = FloatVector.zero(F);
        FloatVector d = e;
        if (packed != null) {
            int wb = b * pairs * L;
            for (int p = 0; p < pairs; p++) {
                IntVector v = IntVector.fromArray(I, packed, wb + p * L);
                e = e.add(evenOf(v).mul(x[xo + 2 * p]));
                d = d.add(oddOf(v).mul(x[xo + 2 * p + 1]));
            }
        } else {
            int wb = b * pairs * 2 * L;
            for (int p = 0; p < pairs; p++) {
                e = e.add(FloatVector.fromArray(F, wide, wb + p * 2 * L).mul(x[xo + 2 * p]));
                d = d.add(FloatVector.fromArray(F, wide, wb + p * 2 * L + L).mul(x[xo + 2 * p + 1]));
            }
        }
        e.add(d).intoArray(y, r * out + b * L);
    }

    /** The even element of each lane's pair: a bf16 is the top half of an fp32. */
    private static FloatVector evenOf(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector oddOf(IntVector pairs) {
        return pairs.and(0xffff0000).reinterpretAsFloats();
    }
}
