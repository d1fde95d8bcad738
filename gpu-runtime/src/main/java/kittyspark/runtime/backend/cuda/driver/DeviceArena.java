package kittyspark.runtime.backend.cuda.driver;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * All of the backend's device memory in one cuMemAlloc, handed out by bumping an offset:
 * weights, workspace and KV page pools are sized up front, so nothing is freed piecemeal and
 * the allocation cannot fragment.
 */
public final class DeviceArena implements AutoCloseable {
    /** Every region starts on 256 bytes (the alignment cuMemAlloc itself gives). */
    public static final long ALIGN = 256;

    private final CUdeviceptr base = new CUdeviceptr();
    private final long capacity;
    private long used;
    private boolean freed;

    public DeviceArena(long bytes) {
        this.capacity = bytes;
        JCudaDriver.cuMemAlloc(base, bytes);
    }

    public static long align(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    public CUdeviceptr take(long bytes) {
        long a = align(bytes);
        if (used + a > capacity) {
            throw new IllegalStateException("device arena: " + a + " more bytes requested, " + (capacity - used) + " left of "
                    + capacity);
        }
        CUdeviceptr p = base.withByteOffset(used);
        used += a;
        return p;
    }

    public long used() {
        return used;
    }

    public long capacity() {
        return capacity;
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            JCudaDriver.cuMemFree(base);
        }
    }
}
