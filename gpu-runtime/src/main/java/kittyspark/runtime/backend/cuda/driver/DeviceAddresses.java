package kittyspark.runtime.backend.cuda.driver;

import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * The raw addresses behind JCuda's handles, for libraries that take plain pointers (cuBLAS
 * through JavaCPP). JCuda keeps them protected; its copy constructors are the way in.
 */
public final class DeviceAddresses {
    private DeviceAddresses() {
    }

    /** The device address {@code p} points at (its allocation's base plus its byte offset). */
    public static long of(CUdeviceptr p) {
        return new DevicePointerView(p).address();
    }

    /** The CUstream handle's value (a cudaStream_t to the runtime API). */
    public static long of(CUstream s) {
        return new HandleView(s).address();
    }

    private static final class DevicePointerView extends CUdeviceptr {
        DevicePointerView(CUdeviceptr p) {
            super(p);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    private static final class HandleView extends NativePointerObject {
        HandleView(NativePointerObject o) {
            super(o);
        }

        long address() {
            return getNativePointer();
        }
    }
}
