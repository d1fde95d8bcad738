package kittyspark.runtime.kv;

import kittyspark.kvquant.ReferenceAttention;

/**
 * Causal softmax attention of a group of query heads over one KV head's rows, as the CPU
 * caches run it. The reference is kvquant's scalar loop; a backend may hand its caches a
 * faster kernel that computes the same function (within float rounding).
 */
@FunctionalInterface
public interface AttentionKernel {
    /** kvquant's scalar reference: what every cache uses unless its maker says otherwise. */
    AttentionKernel REFERENCE = ReferenceAttention::causalRows;

    /**
     * Query rows {@code rowFrom..rowTo-1} of {@code n}: row i sits at position {@code length - n + i};
     * query head g of row i at {@code q[qOff + i * qStride + g * headDim]}, {@code out} likewise;
     * token t's key at {@code keys[kvOff + t * kvStride]}, its value likewise.
     */
    void causalRows(float[] keys, int kvOff, int kvStride, float[] values, int length, int headDim,
                    float[] q, int qOff, int qStride, int heads, int n, int rowFrom, int rowTo, float[] out);
}
