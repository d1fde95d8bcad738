package kittyspark.runtime.backend.cuda.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import jcuda.driver.JCudaDriver;

/**
 * Loads JCuda's driver binding once per process. JCuda extracts its native library into
 * {@code java.io.tmpdir} under a fixed name (its LibUtils has no property of its own), so two
 * processes sharing a temp dir race on the same file: each process first gets a fresh
 * private temp dir. Every CUresult is turned into an exception.
 */
public final class CudaDriver {
    private static final Object LOCK = new Object();
    private static volatile RuntimeException failure;
    private static volatile boolean loaded;

    private CudaDriver() {
    }

    /** Loads the binding and calls cuInit; throws {@link CudaUnavailableException} with the reason. */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (LOCK) {
            if (loaded) {
                return;
            }
            if (failure != null) {
                throw failure;
            }
            try {
                privateTempDir();
                JCudaDriver.setExceptionsEnabled(true);
                JCudaDriver.cuInit(0);
                loaded = true;
            } catch (Throwable t) {
                failure = new CudaUnavailableException("CUDA is not available on this machine (" + t
                        + "); the cuda:N devices need an NVIDIA driver (libcuda.so.1) and a GPU; use --device cpu", t);
                throw failure;
            }
        }
    }

    private static void privateTempDir() throws IOException {
        if (System.getProperty("kittyspark.cuda.keepTmpdir") != null) {
            return;
        }
        Path dir = Files.createTempDirectory("kitty-jcuda-");
        dir.toFile().deleteOnExit();
        System.setProperty("java.io.tmpdir", dir.toString());
    }

    /** Number of CUDA devices (loads the driver). */
    public static int deviceCount() {
        ensureLoaded();
        int[] n = new int[1];
        JCudaDriver.cuDeviceGetCount(n);
        return n[0];
    }
}
