package kittyspark.runtime.backend.cuda.driver;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The project's kernels: the PTX built by {@code gpu-runtime/src/main/cuda/build-ptx.sh},
 * loaded from the classpath with cuModuleLoadData (the driver compiles it for the GPU at
 * hand), and launched by name on one stream.
 */
public final class Kernels {
    /** The PTX files of src/main/resources/kittyspark/cuda. */
    public static final List<String> MODULES = List.of("gemm", "attention", "layers", "sampling", "synth", "kitty_step");

    private long launched;
    private LaunchProfile profile;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final CUstream stream;

    public Kernels(CUstream stream) {
        this.stream = stream;
        for (String m : MODULES) {
            CUmodule module = new CUmodule();
            JCudaDriver.cuModuleLoadData(module, ptx(m));
            modules.put(m, module);
        }
    }

    public static byte[] ptx(String module) {
        // Stored xz-compressed: PTX is text that compresses ~10x, and the jars travel to GPU machines.
        String path = "/kittyspark/cuda/" + module + ".ptx.xz";
        try (InputStream raw = Kernels.class.getResourceAsStream(path)) {
            if (raw == null) {
                throw new IllegalStateException(path + " is not on the classpath; run gpu-runtime/src/main/cuda/build-ptx.sh");
            }
            byte[] b = new org.tukaani.xz.XZInputStream(raw).readAllBytes();
            byte[] z = new byte[b.length + 1]; // cuModuleLoadData reads a NUL-terminated string
            System.arraycopy(b, 0, z, 0, b.length);
            return z;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads one more module from the classpath once (the Kitty page kernels: only a backend
     * holding quantized pages pays for their JIT).
     */
    public void load(String module) {
        if (!modules.containsKey(module)) {
            CUmodule m = new CUmodule();
            JCudaDriver.cuModuleLoadData(m, ptx(module));
            modules.put(module, m);
        }
    }

    public CUfunction function(String name) {
        return functions.computeIfAbsent(name, n -> {
            for (CUmodule m : modules.values()) {
                CUfunction f = new CUfunction();
                try {
                    JCudaDriver.cuModuleGetFunction(f, m, n);
                    return f;
                } catch (jcuda.CudaException notHere) {
                    // look in the next module
                }
            }
            throw new IllegalArgumentException("no kernel named " + n + " in the loaded modules " + modules.keySet());
        });
    }

    /**
     * Blocks of {@code name} one multiprocessor holds at once with {@code block} threads and
     * {@code sharedBytes} of dynamic shared memory (registers, shared memory and limits together),
     * after asking for the largest shared-memory carveout.
     */
    public int residentBlocks(String name, int block, int sharedBytes) {
        CUfunction f = function(name);
        JCudaDriver.cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 100);
        int[] n = new int[1];
        JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(n, f, block, sharedBytes);
        return Math.max(1, n[0]);
    }

    /** Lets {@code name} use more than 48 KiB of dynamic shared memory. */
    public void allowSharedMemory(String name, int bytes) {
        JCudaDriver.cuFuncSetAttribute(function(name), CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
    }

    public void launch(String name, int gridX, int gridY, int block, int sharedBytes, KernelArgs args) {
        launch(name, gridX, gridY, 1, block, sharedBytes, args);
    }

    public void launch(String name, int gridX, int gridY, int gridZ, int block, int sharedBytes, KernelArgs args) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0) {
            return; // nothing to do
        }
        CUfunction f = function(name);
        if (profile != null) {
            profile.begin(name);
        }
        JCudaDriver.cuLaunchKernel(f, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream, args.build(), null);
        if (profile != null) {
            profile.end();
        }
        launched++;
    }

    /** Benchmarks: times every launch (and every {@link #beginSpan} group) into {@code p} until set to null. */
    public void profile(LaunchProfile p) {
        this.profile = p;
    }

    /** Opens a named group of launches in the profile (a GEMM through cuBLAS, say); a no-op unless profiling. */
    public void beginSpan(String name) {
        if (profile != null) {
            profile.begin(name);
        }
    }

    public void endSpan() {
        if (profile != null) {
            profile.end();
        }
    }

    /** A count of kernels launched, and a way to add the ones a replayed graph ran. */
    public interface Counter {
        long count();

        void add(long kernels);
    }

    /**
     * This object's launch count, to which replayed CUDA graphs add the kernels they ran, so
     * that a step's count does not depend on how it was enqueued.
     */
    public Counter counter() {
        return new Counter() {
            @Override
            public long count() {
                return launched;
            }

            @Override
            public void add(long kernels) {
                launched += kernels;
            }
        };
    }

    /** Kernels launched so far through this object (benchmarks count a step's launches with it). */
    public long launched() {
        return launched;
    }
}
