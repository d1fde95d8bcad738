package kittyspark.runtime.backend.cuda.driver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/** Page-locked host memory for transfers (the DMA engine reads it directly, asynchronously). */
public final class PinnedBuffer implements AutoCloseable {
    private final Pointer host = new Pointer();
    private final ByteBuffer bytes;
    private final long size;
    private boolean freed;

    public PinnedBuffer(long size) {
        this.size = size;
        JCudaDriver.cuMemHostAlloc(host, size, 0);
        this.bytes = host.getByteBuffer(0, size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A little-endian view of the whole buffer (position 0). */
    public ByteBuffer bytes() {
        return bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public long size() {
        return size;
    }

    public void toDevice(CUdeviceptr dst, long count, CUstream stream) {
        JCudaDriver.cuMemcpyHtoDAsync(dst, host, count, stream);
    }

    public void fromDevice(CUdeviceptr src, long count, CUstream stream) {
        JCudaDriver.cuMemcpyDtoHAsync(host, src, count, stream);
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            JCudaDriver.cuMemFreeHost(host);
        }
    }
}
