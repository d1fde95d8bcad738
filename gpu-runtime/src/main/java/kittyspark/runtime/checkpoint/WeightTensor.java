package kittyspark.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import kittyspark.kvquant.Fp16;

/**
 * One tensor of a checkpoint, memory-mapped from its safetensors file: never copied onto the
 * heap. Seen as a matrix of {@link #rows()} x {@link #cols()} (the first dimension by the rest).
 * A mapped buffer cannot exceed 2 GiB on Java 17, so large tensors are mapped in chunks of
 * whole rows.
 */
public final class WeightTensor {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final int rows;
    private final int cols;
    private final List<ByteBuffer> chunks;
    private final int rowsPerChunk;

    WeightTensor(String name, DType dtype, long[] shape, List<ByteBuffer> chunks, int rowsPerChunk) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.rows = shape.length == 0 ? 1 : Math.toIntExact(shape[0]);
        long c = 1;
        for (int i = 1; i < shape.length; i++) {
            c *= shape[i];
        }
        this.cols = Math.toIntExact(c);
        this.chunks = chunks.stream().map(b -> b.duplicate().order(ByteOrder.LITTLE_ENDIAN)).toList();
        this.rowsPerChunk = rowsPerChunk;
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public long elements() {
        return (long) rows * cols;
    }

    /** The raw little-endian bytes, in row order, one buffer per mapped chunk (for device upload). */
    public List<ByteBuffer> rawChunks() {
        return chunks.stream().map(b -> b.duplicate().order(ByteOrder.LITTLE_ENDIAN)).toList();
    }

    /**
     * The mapped bytes holding row {@code r} (shared, little-endian: read with absolute offsets
     * only); the row starts at {@link #rowByteOffset}. For kernels that widen in registers.
     */
    public ByteBuffer rowBuffer(int r) {
        return chunks.get(r / rowsPerChunk);
    }

    /** Where row {@code r} starts in {@link #rowBuffer}. */
    public int rowByteOffset(int r) {
        return (r % rowsPerChunk) * cols * dtype.bytes();
    }

    /** Decodes row {@code r} to fp32 into {@code dst[off .. off+cols)}. */
    public void readRow(int r, float[] dst, int off) {
        ByteBuffer b = chunks.get(r / rowsPerChunk);
        int base = (r % rowsPerChunk) * cols * dtype.bytes();
        switch (dtype) {
            case BF16 -> {
                for (int i = 0; i < cols; i++) {
                    dst[off + i] = Float.intBitsToFloat((b.getShort(base + 2 * i) & 0xffff) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) {
                    dst[off + i] = Fp16.toFloat(b.getShort(base + 2 * i));
                }
            }
            case F32 -> {
                for (int i = 0; i < cols; i++) {
                    dst[off + i] = b.getFloat(base + 4 * i);
                }
            }
        }
    }

    /** The whole tensor as fp32 (for small tensors: norms, biases). */
    public float[] toFloats() {
        float[] out = new float[Math.toIntExact(elements())];
        for (int r = 0; r < rows; r++) {
            readRow(r, out, r * cols);
        }
        return out;
    }

    /** Checks the shape; the message names the tensor. */
    public WeightTensor expectShape(long... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new CheckpointException("tensor " + name + " has shape " + Arrays.toString(shape)
                    + ", expected " + Arrays.toString(expected));
        }
        return this;
    }

    @Override
    public String toString() {
        return name + dtype + Arrays.toString(shape);
    }
}
