package kittyspark.runtime.backend.cpu;

/**
 * Finds the SIMD kernels without linking them: their class refers to
 * {@code jdk.incubator.vector}, which a JVM only has when started with
 * {@code --add-modules jdk.incubator.vector}, so it is loaded by name and only then.
 */
final class VectorSupport {
    private static final String KERNELS = "kittyspark.runtime.backend.cpu.simd.VectorKernels";
    private static volatile CpuKernels loaded;
    private static volatile String why = "";

    private VectorSupport() {
    }

    /** The vector kernels, or null when this JVM cannot run them ({@link #why} says why). */
    static CpuKernels load() {
        if (loaded != null) {
            return loaded;
        }
        if (ModuleLayer.boot().findModule(CpuKernels.VECTOR_MODULE).isEmpty()) {
            why = "the module " + CpuKernels.VECTOR_MODULE + ", which this JVM was started without";
            return null;
        }
        try {
            CpuKernels k = (CpuKernels) Class.forName(KERNELS).getDeclaredConstructor().newInstance();
            loaded = k;
            return k;
        } catch (java.lang.reflect.InvocationTargetException e) {
            why = e.getCause().getMessage();
            return null;
        } catch (ReflectiveOperationException | LinkageError e) {
            why = "a loadable " + KERNELS + " (" + e + ")";
            return null;
        }
    }

    static String why() {
        return why;
    }
}
