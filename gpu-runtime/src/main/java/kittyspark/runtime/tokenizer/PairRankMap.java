package kittyspark.runtime.tokenizer;

/**
 * The BPE merge table: (left id, right id) -> (rank, merged id), in an open-addressing table
 * keyed by one long, so the merge loop does no boxing, hashing of strings or allocation.
 */
final class PairRankMap {
    private static final long EMPTY = -1L; // ids are non-negative, so no real key is -1

    private final long[] keys;
    private final int[] ranks;
    private final int[] mergedIds;
    private final int mask;
    private int size;

    PairRankMap(int expectedPairs) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedPairs * 2 - 1)) << 1;
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        ranks = new int[capacity];
        mergedIds = new int[capacity];
        mask = capacity - 1;
    }

    /**
     * Adds a merge. A pair listed twice keeps the later rank, as Hugging Face's merge map (built
     * by collecting into a HashMap) does.
     */
    void put(int left, int right, int rank, int mergedId) {
        long key = key(left, right);
        int slot = slotFor(key);
        if (keys[slot] != key) {
            if (size + 1 > keys.length / 2) {
                throw new IllegalStateException("PairRankMap sized for fewer pairs than were added");
            }
            keys[slot] = key;
            size++;
        }
        ranks[slot] = rank;
        mergedIds[slot] = mergedId;
    }

    /** The slot of a pair, or -1 if the pair does not merge. */
    int find(int left, int right) {
        long key = key(left, right);
        int slot = slotFor(key);
        return keys[slot] == key ? slot : -1;
    }

    int rankAt(int slot) {
        return ranks[slot];
    }

    int mergedIdAt(int slot) {
        return mergedIds[slot];
    }

    int size() {
        return size;
    }

    private int slotFor(long key) {
        int slot = (int) mix(key) & mask;
        while (keys[slot] != EMPTY && keys[slot] != key) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** MurmurHash3's 64-bit finalizer: neighbouring ids land far apart. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
