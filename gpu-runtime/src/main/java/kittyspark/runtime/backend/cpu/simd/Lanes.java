package kittyspark.runtime.backend.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register widths the kernels use. Lanes always hold independent accumulation chains of
 * the scalar code (never parts of one sum), so the width changes speed, not results. Vectors
 * never cross a method boundary the JIT might not inline: such a vector is boxed on the heap.
 */
final class Lanes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Floats per register; the kernels need at least 4 ({@link VectorKernels} checks). */
    static final int L = F.length();
    /** Four lanes: the four partial sums of the reference attention's dot product. */
    static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;

    private Lanes() {
    }
}
