package kittyspark.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE over one pre-token: start from one token per UTF-8 byte, then repeatedly merge
 * the adjacent pair of lowest rank (the leftmost one on a tie), as Hugging Face's {@code Word::merge_all}
 * does. Immutable after construction except for a bounded, thread-safe cache of recent pre-tokens.
 */
final class BpeMerger {
    /** Pre-tokens longer than this are not cached: they are rare and would crowd out the common ones. */
    private static final int MAX_CACHED_CHARS = 128;
    private static final int CACHE_CAPACITY = 50_000;

    private final int[] byteToId;
    private final PairRankMap merges;
    /** Non-null only for models with {@code ignore_merges}: a pre-token found whole in the vocab is one token. */
    private final Map<String, Integer> vocabForIgnoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param byteToId the token id of each single byte (-1 where the vocab has none)
     * @param merges the merge table
     * @param vocabForIgnoreMerges the byte-level vocab if the model sets ignore_merges, else null
     */
    BpeMerger(int[] byteToId, PairRankMap merges, Map<String, Integer> vocabForIgnoreMerges) {
        this.byteToId = byteToId.clone();
        this.merges = merges;
        this.vocabForIgnoreMerges = vocabForIgnoreMerges;
    }

    /** Appends the ids of one pre-token (raw text, not yet byte-level) to {@code out}. */
    void encode(String piece, IntArrayBuilder out) {
        if (piece.length() > MAX_CACHED_CHARS) {
            out.addAll(merge(piece));
            return;
        }
        int[] ids = cache.get(piece);
        if (ids == null) {
            ids = merge(piece);
            // Clearing when full keeps the cache bounded and lets it follow a change of workload.
            if (cache.size() >= CACHE_CAPACITY) {
                cache.clear();
            }
            cache.put(piece, ids);
        }
        out.addAll(ids);
    }

    private int[] merge(String piece) {
        byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
        if (vocabForIgnoreMerges != null) {
            Integer whole = vocabForIgnoreMerges.get(ByteLevelAlphabet.encode(utf8));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int n = utf8.length;
        int[] sym = new int[n];
        for (int i = 0; i < n; i++) {
            int id = byteToId[utf8[i] & 0xFF];
            if (id < 0) {
                throw new TokenizerException(String.format(
                        "byte 0x%02X has no token in the vocabulary (text %s)", utf8[i] & 0xFF, abbreviate(piece)));
            }
            sym[i] = id;
        }
        if (n < 2) {
            return sym;
        }
        return mergeAll(sym);
    }

    /**
     * Symbols live at their original byte positions in a linked list; a merged symbol keeps the
     * left position and the right one is marked dead (-1). The heap holds (rank, left position)
     * packed in a long, so its natural order is lowest rank first, then leftmost. Entries whose
     * pair has since changed are recognised on pop (the pair no longer has that rank) and skipped.
     */
    private int[] mergeAll(int[] sym) {
        int n = sym.length;
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1; // n means "none"
            prev[i] = i - 1;
        }
        LongMinHeap heap = new LongMinHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            pushPair(heap, sym, i, i + 1);
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (sym[pos] < 0 || next[pos] >= n) {
                continue;
            }
            int right = next[pos];
            int slot = merges.find(sym[pos], sym[right]);
            if (slot < 0 || merges.rankAt(slot) != rank) {
                continue; // stale: one side was merged with something else since this was pushed
            }
            sym[pos] = merges.mergedIdAt(slot);
            sym[right] = -1;
            alive--;
            next[pos] = next[right];
            if (next[pos] < n) {
                prev[next[pos]] = pos;
                pushPair(heap, sym, pos, next[pos]);
            }
            if (prev[pos] >= 0) {
                pushPair(heap, sym, prev[pos], pos);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i < n; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    private void pushPair(LongMinHeap heap, int[] sym, int left, int right) {
        int slot = merges.find(sym[left], sym[right]);
        if (slot >= 0) {
            heap.push(((long) merges.rankAt(slot) << 32) | left);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? '"' + s + '"' : '"' + s.substring(0, 40) + "...\"";
    }

    /** A binary min-heap of longs, private to one merge call. */
    private static final class LongMinHeap {
        private long[] a;
        private int size;

        LongMinHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) {
                a = java.util.Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && a[child + 1] < a[child]) {
                    child++;
                }
                if (last <= a[child]) {
                    break;
                }
                a[i] = a[child];
                i = child;
            }
            a[i] = last;
            return top;
        }
    }
}
