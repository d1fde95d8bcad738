package kittyspark.runtime.backend.cuda.driver;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One device's primary context and the backend's one stream. The primary context is the
 * device's shared context (what the CUDA runtime uses too); {@link #makeCurrent()} binds it to
 * the calling thread, which every thread that touches the device must do first (the
 * engine's scheduler thread, a scorer's thread).
 */
public final class CudaContext implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final String name;
    private final int multiprocessors;
    private boolean closed;

    public CudaContext(int ordinal) {
        CudaDriver.ensureLoaded();
        int count = CudaDriver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaUnavailableException("device cuda:" + ordinal + " does not exist: this machine has " + count
                    + " CUDA device(s)", null);
        }
        this.ordinal = ordinal;
        JCudaDriver.cuDeviceGet(device, ordinal);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        byte[] buf = new byte[256];
        JCudaDriver.cuDeviceGetName(buf, buf.length, device);
        String n = new String(buf, java.nio.charset.StandardCharsets.US_ASCII);
        this.name = n.substring(0, Math.max(0, n.indexOf(0) < 0 ? n.length() : n.indexOf(0))).trim();
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        this.multiprocessors = v[0];
    }

    public void makeCurrent() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    public CUstream stream() {
        return stream;
    }

    public String name() {
        return name;
    }

    public int ordinal() {
        return ordinal;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    /** Free and total device memory, bytes. */
    public long[] memInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    public void synchronize() {
        JCudaDriver.cuStreamSynchronize(stream);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        makeCurrent();
        JCudaDriver.cuStreamSynchronize(stream);
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
