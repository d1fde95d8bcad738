package kittyspark.runtime.backend.cpu.simd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import kittyspark.runtime.backend.cpu.MatMul;
import kittyspark.runtime.checkpoint.DType;
import kittyspark.runtime.checkpoint.WeightTensor;

import static kittyspark.runtime.backend.cpu.simd.Lanes.F;
import static kittyspark.runtime.backend.cpu.simd.Lanes.I;
import static jdk.incubator.vector.VectorOperators.ADD;
import static kittyspark.runtime.backend.cpu.simd.Lanes.L;

/**
 * The matrix product on SIMD registers. 16-bit weights (bf16, f16) are read as 32-bit lanes
 * straight from the mapped file, each lane holding an even and an odd element: shifting and
 * masking widens them to two fp32 registers with no conversion instruction. So the dot
 * products run over a reordered index, each run of 2L elements as its L even then its L odd
 * ones, and {@link #prepare} reorders the input rows the same way (f32 weights keep their
 * order). Elements past the last full run are summed in scalar code.
 *
 * <p>One input row ({@code n == 1}, decoding one sequence) widens weights in registers; larger
 * batches widen a block of {@value #BLOCK} weight rows once into a scratch buffer and run 4x4
 * register tiles (four weight rows by four input rows) over it. Both give each output the same
 * fused multiply-adds in the same order and the same final sum, so an output does not depend
 * on the batch it is in.
 */
final class VectorMatMul implements MatMul {
    static final int BLOCK = 16;
    /** Multiply-adds that make one thread's share worth a hand-over to another thread. */
    private static final long MIN_MACS_PER_CHUNK = 1L << 17;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final WeightTensor w;
    private final DType dtype;
    private final int in;
    private final int out;
    /** Elements one widening step yields: 2L for 16-bit weights, L for f32. */
    private final int run;
    /** Elements covered by whole runs; [body, in) is the scalar tail. */
    private final int body;

    VectorMatMul(WeightTensor weight) {
        this.w = weight;
        this.dtype = weight.dtype();
        this.in = weight.cols();
        this.out = weight.rows();
        this.run = dtype == DType.F32 ? L : 2 * L;
        this.body = in - in % run;
    }

    @Override
    public int blockRows() {
        return BLOCK;
    }

    @Override
    public int grain(int n) {
        return (int) Math.max(1, MIN_MACS_PER_CHUNK / ((long) BLOCK * in * Math.max(1, n)));
    }

    @Override
    public float[] prepare(float[] x, int n) {
        if (run == L) {
            return x;
        }
        float[] p = new float[n * in];
        for (int r = 0; r < n; r++) {
            int b = r * in;
            for (int c = b; c < b + body; c += run) {
                for (int j = 0; j < L; j++) {
                    p[c + j] = x[c + 2 * j];
                    p[c + L + j] = x[c + 2 * j + 1];
                }
            }
            System.arraycopy(x, b + body, p, b + body, in - body);
        }
        return p;
    }

    @Override
    public void rows(float[] x, int n, float[] y, int from, int to) {
        Scratch s = SCRATCH.get();
        if (n == 1 && dtype == DType.BF16) {
            rowsOfOneInput(x, y, from, to);
            return;
        }
        float[] ws = s.weights(BLOCK * in);
        for (int o = from; o < to; o += BLOCK) {
            int rows = Math.min(BLOCK, to - o);
            for (int j = 0; j < rows; j++) {
                widen(o + j, ws, j * in);
            }
            int r = 0;
            for (; r + 4 <= n; r += 4) {
                int j = 0;
                for (; j + 4 <= rows; j += 4) {
                    tile4x4(x, r * in, ws, j * in, y, r * out + o + j);
                }
                for (; j < rows; j++) {
                    for (int k = 0; k < 4; k++) {
                        y[(r + k) * out + o + j] = dot(x, (r + k) * in, ws, j * in);
                    }
                }
            }
            for (; r < n; r++) {
                int j = 0;
                for (; j + 4 <= rows; j += 4) {
                    tile4x1(x, r * in, ws, j * in, y, r * out + o + j);
                }
                for (; j < rows; j++) {
                    y[r * out + o + j] = dot(x, r * in, ws, j * in);
                }
            }
        }
    }

    /** Decode of one sequence: bf16 weight rows widened in registers, four at a time. */
    private void rowsOfOneInput(float[] x, float[] y, int from, int to) {
        int o = from;
        for (; o + 4 <= to; o += 4) {
            ByteBuffer b0 = w.rowBuffer(o), b1 = w.rowBuffer(o + 1), b2 = w.rowBuffer(o + 2), b3 = w.rowBuffer(o + 3);
            int p0 = w.rowByteOffset(o), p1 = w.rowByteOffset(o + 1), p2 = w.rowByteOffset(o + 2), p3 = w.rowByteOffset(o + 3);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < body; c += run) {
                FloatVector xe = FloatVector.fromArray(F, x, c);
                FloatVector xo = FloatVector.fromArray(F, x, c + L);
                IntVector v0 = IntVector.fromByteBuffer(I, b0, p0 + 2 * c, LE);
                IntVector v1 = IntVector.fromByteBuffer(I, b1, p1 + 2 * c, LE);
                IntVector v2 = IntVector.fromByteBuffer(I, b2, p2 + 2 * c, LE);
                IntVector v3 = IntVector.fromByteBuffer(I, b3, p3 + 2 * c, LE);
                a0 = evenBf16(v0).fma(xe, a0);
                a1 = evenBf16(v1).fma(xe, a1);
                a2 = evenBf16(v2).fma(xe, a2);
                a3 = evenBf16(v3).fma(xe, a3);
                a0 = oddBf16(v0).fma(xo, a0);
                a1 = oddBf16(v1).fma(xo, a1);
                a2 = oddBf16(v2).fma(xo, a2);
                a3 = oddBf16(v3).fma(xo, a3);
            }
            y[o] = a0.reduceLanes(ADD) + tailFromBuffer(x, 0, o);
            y[o + 1] = a1.reduceLanes(ADD) + tailFromBuffer(x, 0, o + 1);
            y[o + 2] = a2.reduceLanes(ADD) + tailFromBuffer(x, 0, o + 2);
            y[o + 3] = a3.reduceLanes(ADD) + tailFromBuffer(x, 0, o + 3);
        }
        for (; o < to; o++) {
            ByteBuffer b0 = w.rowBuffer(o);
            int p0 = w.rowByteOffset(o);
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0; c < body; c += run) {
                IntVector v0 = IntVector.fromByteBuffer(I, b0, p0 + 2 * c, LE);
                a0 = evenBf16(v0).fma(FloatVector.fromArray(F, x, c), a0);
                a0 = oddBf16(v0).fma(FloatVector.fromArray(F, x, c + L), a0);
            }
            y[o] = a0.reduceLanes(ADD) + tailFromBuffer(x, 0, o);
        }
    }

    private float tailFromBuffer(float[] x, int xo, int row) {
        float t = 0f;
        ByteBuffer b = w.rowBuffer(row);
        int p = w.rowByteOffset(row);
        for (int i = body; i < in; i++) {
            t += x[xo + i] * Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xffff) << 16);
        }
        return t;
    }

    /** Four weight rows by four input rows: sixteen accumulators. */
    private void tile4x4(float[] x, int xo, float[] ws, int wo, float[] y, int yo) {
        int x1 = xo + in, x2 = xo + 2 * in, x3 = xo + 3 * in;
        int w1 = wo + in, w2 = wo + 2 * in, w3 = wo + 3 * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int i = 0; i < body; i += L) {
            FloatVector v0 = FloatVector.fromArray(F, ws, wo + i);
            FloatVector v1 = FloatVector.fromArray(F, ws, w1 + i);
            FloatVector v2 = FloatVector.fromArray(F, ws, w2 + i);
            FloatVector v3 = FloatVector.fromArray(F, ws, w3 + i);
            FloatVector u = FloatVector.fromArray(F, x, xo + i);
            a00 = v0.fma(u, a00);
            a01 = v1.fma(u, a01);
            a02 = v2.fma(u, a02);
            a03 = v3.fma(u, a03);
            u = FloatVector.fromArray(F, x, x1 + i);
            a10 = v0.fma(u, a10);
            a11 = v1.fma(u, a11);
            a12 = v2.fma(u, a12);
            a13 = v3.fma(u, a13);
            u = FloatVector.fromArray(F, x, x2 + i);
            a20 = v0.fma(u, a20);
            a21 = v1.fma(u, a21);
            a22 = v2.fma(u, a22);
            a23 = v3.fma(u, a23);
            u = FloatVector.fromArray(F, x, x3 + i);
            a30 = v0.fma(u, a30);
            a31 = v1.fma(u, a31);
            a32 = v2.fma(u, a32);
            a33 = v3.fma(u, a33);
        }
        int y1 = yo + out, y2 = yo + 2 * out, y3 = yo + 3 * out;
        y[yo] = a00.reduceLanes(ADD) + tail(x, xo, ws, wo);
        y[yo + 1] = a01.reduceLanes(ADD) + tail(x, xo, ws, w1);
        y[yo + 2] = a02.reduceLanes(ADD) + tail(x, xo, ws, w2);
        y[yo + 3] = a03.reduceLanes(ADD) + tail(x, xo, ws, w3);
        y[y1] = a10.reduceLanes(ADD) + tail(x, x1, ws, wo);
        y[y1 + 1] = a11.reduceLanes(ADD) + tail(x, x1, ws, w1);
        y[y1 + 2] = a12.reduceLanes(ADD) + tail(x, x1, ws, w2);
        y[y1 + 3] = a13.reduceLanes(ADD) + tail(x, x1, ws, w3);
        y[y2] = a20.reduceLanes(ADD) + tail(x, x2, ws, wo);
        y[y2 + 1] = a21.reduceLanes(ADD) + tail(x, x2, ws, w1);
        y[y2 + 2] = a22.reduceLanes(ADD) + tail(x, x2, ws, w2);
        y[y2 + 3] = a23.reduceLanes(ADD) + tail(x, x2, ws, w3);
        y[y3] = a30.reduceLanes(ADD) + tail(x, x3, ws, wo);
        y[y3 + 1] = a31.reduceLanes(ADD) + tail(x, x3, ws, w1);
        y[y3 + 2] = a32.reduceLanes(ADD) + tail(x, x3, ws, w2);
        y[y3 + 3] = a33.reduceLanes(ADD) + tail(x, x3, ws, w3);
    }

    /** Four weight rows by one input row. */
    private void tile4x1(float[] x, int xo, float[] ws, int wo, float[] y, int yo) {
        int w1 = wo + in, w2 = wo + 2 * in, w3 = wo + 3 * in;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < body; i += L) {
            FloatVector u = FloatVector.fromArray(F, x, xo + i);
            a0 = FloatVector.fromArray(F, ws, wo + i).fma(u, a0);
            a1 = FloatVector.fromArray(F, ws, w1 + i).fma(u, a1);
            a2 = FloatVector.fromArray(F, ws, w2 + i).fma(u, a2);
            a3 = FloatVector.fromArray(F, ws, w3 + i).fma(u, a3);
        }
        y[yo] = a0.reduceLanes(ADD) + tail(x, xo, ws, wo);
        y[yo + 1] = a1.reduceLanes(ADD) + tail(x, xo, ws, w1);
        y[yo + 2] = a2.reduceLanes(ADD) + tail(x, xo, ws, w2);
        y[yo + 3] = a3.reduceLanes(ADD) + tail(x, xo, ws, w3);
    }

    /** One weight row by one input row (the rows a block has past its last group of four). */
    private float dot(float[] x, int xo, float[] ws, int wo) {
        FloatVector a = FloatVector.zero(F);
        for (int i = 0; i < body; i += L) {
            a = FloatVector.fromArray(F, ws, wo + i).fma(FloatVector.fromArray(F, x, xo + i), a);
        }
        return a.reduceLanes(ADD) + tail(x, xo, ws, wo);
    }

    private float tail(float[] x, int xo, float[] ws, int wo) {
        float t = 0f;
        for (int i = body; i < in; i++) {
            t += x[xo + i] * ws[wo + i];
        }
        return t;
    }

    /** Weight row {@code row} to fp32 in the kernels' order, at {@code dst[off ..]}. */
    private void widen(int row, float[] dst, int off) {
        ByteBuffer b = w.rowBuffer(row);
        int p = w.rowByteOffset(row);
        switch (dtype) {
            case BF16 -> {
                for (int c = 0; c < body; c += run) {
                    IntVector v = IntVector.fromByteBuffer(I, b, p + 2 * c, LE);
                    evenBf16(v).intoArray(dst, off + c);
                    oddBf16(v).intoArray(dst, off + c + L);
                }
                for (int i = body; i < in; i++) {
                    dst[off + i] = Float.intBitsToFloat((b.getShort(p + 2 * i) & 0xffff) << 16);
                }
            }
            case F16 -> {
                for (int c = 0; c < body; c += run) {
                    IntVector v = IntVector.fromByteBuffer(I, b, p + 2 * c, LE);
                    halfToFloat(v.and(0xffff)).intoArray(dst, off + c);
                    halfToFloat(v.lanewise(VectorOperators.LSHR, 16)).intoArray(dst, off + c + L);
                }
                for (int i = body; i < in; i++) {
                    dst[off + i] = kittyspark.kvquant.Fp16.toFloat(b.getShort(p + 2 * i));
                }
            }
            case F32 -> {
                for (int c = 0; c < body; c += run) {
                    FloatVector.fromByteBuffer(F, b, p + 4 * c, LE).intoArray(dst, off + c);
                }
                for (int i = body; i < in; i++) {
                    dst[off + i] = b.getFloat(p + 4 * i);
                }
            }
        }
    }

    /** The even element of each lane's pair: bf16 is the top half of an fp32. */
    private static FloatVector evenBf16(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector oddBf16(IntVector pairs) {
        return pairs.and(0xffff0000).reinterpretAsFloats();
    }

    /**
     * IEEE half (low 16 bits of each lane) to fp32, exact: the exponent and mantissa bits moved
     * into place and scaled by 2^112 (which also makes half subnormals normal), then inf/NaN
     * given the all-ones exponent and the sign put back.
     */
    static FloatVector halfToFloat(IntVector h) {
        IntVector em = h.and(0x7fff);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = em.compare(VectorOperators.GE, 0x7c00);
        IntVector bits = finite.blend(shifted.or(0x7f800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** Per-thread buffer: the widened weight block. */
    private static final class Scratch {
        private float[] weights = new float[0];

        float[] weights(int size) {
            if (weights.length < size) {
                weights = new float[size];
            }
            return weights;
        }
    }
}
