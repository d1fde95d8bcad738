package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register width the kernels use: one, the JIT's preferred (a second float width in the
 * same JVM makes the calls into the Vector API polymorphic, and vectors then live on the heap).
 * Lanes always hold independent accumulation chains of the scalar code (never parts of one
 * sum), so the width changes speed, not results. Vectors never cross a method boundary the JIT
 * might not inline, for the same reason.
 */
final class Lanes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Floats per register; the kernels need at least 4 ({@link VectorKernels} checks). */
    static final int L = F.length();

    private Lanes() {
    }
}
