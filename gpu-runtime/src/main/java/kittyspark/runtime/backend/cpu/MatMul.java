package kittyspark.runtime.backend.cpu;

/**
 * {@code y = x W^T} over a block of W's rows: the arithmetic behind {@link Linear}, which owns
 * the split over threads and the bias. Every output is computed the same way whichever block,
 * chunk or batch it lands in, so a sequence's logits do not depend on its batch neighbours.
 */
public interface MatMul {
    /**
     * The input as {@link #rows} reads it: a kernel may reorder the elements of each row to
     * match the order in which it widens the weights. May return {@code x} itself.
     *
     * @param x {@code [n][in]}
     */
    float[] prepare(float[] x, int n);

    /** Writes {@code y[r * out + o]} for every row r < n and every o in [from, to). */
    void rows(float[] prepared, int n, float[] y, int from, int to);

    /** {@link #rows} ranges start at multiples of this many weight rows. */
    int blockRows();

    /** The fewest blocks worth handing to one thread for a batch of n rows. */
    int grain(int n);
}
