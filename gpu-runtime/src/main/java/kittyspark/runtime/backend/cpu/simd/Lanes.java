package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register width the kernels use, and what they rely on for horizontal sums.
 *
 * <p>Every dot product ends in {@code reduceLanes(ADD)}. The API leaves the order of a float
 * reduction open; on Java 17 both the JIT's intrinsic and the interpreter's fallback add the
 * lanes in order, lane 0 first, which is what makes an output's bits independent of whether
 * its loop has been compiled yet ({@code LanesTest} pins this, so a JVM that reorders fails a
 * test instead of making a sequence's tokens depend on JIT timing). Vectors never cross a
 * method boundary the JIT might not inline: such a vector is boxed on the heap.
 */
final class Lanes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Floats per register; the kernels need at least 4 ({@link VectorKernels} checks). */
    static final int L = F.length();

    private Lanes() {
    }
}
