package kittyspark.runtime.backend.cuda.kitty;

import kittyspark.kvquant.QuantConfig;

/**
 * Which pages a sequence holds, by {@link kittyspark.kvquant.QuantizedKvStream}'s rules: pages
 * are made by the flush after each step's attention, key pages as soon as P keys follow the
 * sink, value pages once their P values have also left the window of the latest W. So a step
 * that takes a sequence from {@code l0} to {@code l0 + n} tokens reads {@code keyPages(l0)} /
 * {@code valuePages(l0)} pages and then makes pages {@code [keyPages(l0), keyPages(l0 + n))}
 * and {@code [valuePages(l0), valuePages(l0 + n))}. Same counts as KvMemory's.
 */
public final class KittyFlush {
    private KittyFlush() {
    }

    /** Key pages held by a stream of {@code length} tokens after its flush (kvquant's rule). */
    public static int keyPages(QuantConfig c, long length) {
        return c.keyPages(length);
    }

    /** Value pages held by a stream of {@code length} tokens after its flush (kvquant's rule). */
    public static int valuePages(QuantConfig c, long length) {
        return c.valuePages(length);
    }

    /** First token of page i (keys and values alike). */
    public static long pageStart(QuantConfig c, int page) {
        return c.pageStart(page);
    }

    /**
     * The first token a prompt chunk must hold in full precision to make this step's pages
     * and refill the rings: its values (and keys) not yet paged, i.e. from value page
     * {@code valuePages(l0)} on; a sequence still inside its sink keeps everything from l0.
     */
    public static int stagingBase(QuantConfig c, int l0) {
        if (l0 < c.sink()) {
            return l0;
        }
        return (int) pageStart(c, valuePages(c, l0));
    }
}
