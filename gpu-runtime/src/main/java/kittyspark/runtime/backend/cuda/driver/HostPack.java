package kittyspark.runtime.backend.cuda.driver;

import java.nio.ByteBuffer;

import jcuda.driver.CUdeviceptr;

/**
 * Packs a step's small host arrays (token ids, positions, page tables, work items, sampling
 * parameters) one after another into a pinned buffer, so the whole step goes to the device in
 * one copy; each array's device address is the device region's base plus its offset.
 */
public final class HostPack {
    private final ByteBuffer bytes;
    private final CUdeviceptr deviceBase;

    public HostPack(PinnedBuffer host, CUdeviceptr deviceBase) {
        this.bytes = host.bytes();
        this.deviceBase = deviceBase;
    }

    public void reset() {
        bytes.clear();
    }

    public int used() {
        return bytes.position();
    }

    private CUdeviceptr start(long need) {
        int at = (bytes.position() + 15) & ~15;
        if (at + need > bytes.capacity()) {
            throw new IllegalStateException("step parameters exceed their staging buffer of " + bytes.capacity() + " bytes");
        }
        bytes.position(at);
        return deviceBase.withByteOffset(at);
    }

    public CUdeviceptr ints(int[] a, int n) {
        CUdeviceptr p = start(4L * n);
        for (int i = 0; i < n; i++) {
            bytes.putInt(a[i]);
        }
        return p;
    }

    public CUdeviceptr floats(float[] a, int n) {
        CUdeviceptr p = start(4L * n);
        for (int i = 0; i < n; i++) {
            bytes.putFloat(a[i]);
        }
        return p;
    }

    public CUdeviceptr longs(long[] a, int n) {
        CUdeviceptr p = start(8L * n);
        for (int i = 0; i < n; i++) {
            bytes.putLong(a[i]);
        }
        return p;
    }
}
