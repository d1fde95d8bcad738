package kittyspark.checks.probe;

import java.io.PrintStream;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * The device kit's first GPU check: JCuda loads its native library (extracted into this
 * process's {@code java.io.tmpdir}) and reaches the driver ({@code libcuda.so.1}); prints the
 * driver version and every device. Exit 0 when at least one device answers, 1 otherwise,
 * with the reason, so {@code bin/device-test} records it as a failed step.
 */
public final class JCudaProbe {
    private JCudaProbe() {
    }

    public static void main(String[] args) {
        System.exit(probe(System.out, System.err));
    }

    static int probe(PrintStream out, PrintStream err) {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] version = new int[1];
            JCudaDriver.cuDriverGetVersion(version);
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            out.printf("CUDA driver API %d.%d, %d device(s), JCuda natives from %s%n",
                    version[0] / 1000, version[0] % 1000 / 10, count[0], System.getProperty("java.io.tmpdir"));
            for (int i = 0; i < count[0]; i++) {
                CUdevice dev = new CUdevice();
                JCudaDriver.cuDeviceGet(dev, i);
                byte[] name = new byte[256];
                JCudaDriver.cuDeviceGetName(name, name.length, dev);
                long[] bytes = new long[1];
                JCudaDriver.cuDeviceTotalMem(bytes, dev);
                out.printf("cuda:%d %s, %.1f GiB, compute capability %d.%d, %d SMs%n", i, cString(name),
                        bytes[0] / (double) (1L << 30),
                        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
            }
            if (count[0] == 0) {
                err.println("JCudaProbe: the driver reports no CUDA device");
                return 1;
            }
            return 0;
        } catch (LinkageError | RuntimeException e) {
            // No libcuda.so.1 (a machine without the NVIDIA driver), or the driver refused.
            err.println("JCudaProbe: CUDA is not usable here: " + e);
            return 1;
        }
    }

    private static int attribute(CUdevice dev, int attribute) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, attribute, dev);
        return v[0];
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
