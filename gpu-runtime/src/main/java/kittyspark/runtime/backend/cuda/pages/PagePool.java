package kittyspark.runtime.backend.cuda.pages;

import java.util.Arrays;

/**
 * Book-keeping of a paged KV cache: which pages are free, which belong to which sequence,
 * and how many each admitted sequence may still claim. Plain Java, no device: the pages
 * themselves live in device pools indexed by page id (the same id in every layer's pool).
 *
 * <p>A sequence is opened with a reservation (its worst case: prompt + max new tokens), so
 * sequences admitted together can never run out of pages half-way; it claims pages as it
 * grows and gives everything back on release. {@code bytesPerPage} is a parameter so that
 * quantized pages can be held here too: the pool only counts pages.
 */
public final class PagePool {
    private final int pageTokens;
    private final long bytesPerPage;
    private final int[] freeStack;
    private int freeCount;
    /** Pages promised to open sequences but not yet claimed by them. */
    private long reservedUnclaimed;

    public PagePool(int pages, int pageTokens, long bytesPerPage) {
        if (pages < 0 || pageTokens <= 0 || bytesPerPage <= 0) {
            throw new IllegalArgumentException("pages >= 0, page tokens > 0 and bytes per page > 0 required");
        }
        this.pageTokens = pageTokens;
        this.bytesPerPage = bytesPerPage;
        this.freeStack = new int[pages];
        // Lowest ids on top, so a fresh pool hands out 0, 1, 2, ... (easier to read in tests and dumps).
        for (int i = 0; i < pages; i++) {
            freeStack[i] = pages - 1 - i;
        }
        this.freeCount = pages;
    }

    /** Pages a pool of {@code bytes} holds at {@code bytesPerPage}. */
    public static int pagesFor(long bytes, long bytesPerPage) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, bytes / bytesPerPage));
    }

    public int pageTokens() {
        return pageTokens;
    }

    public long bytesPerPage() {
        return bytesPerPage;
    }

    public int totalPages() {
        return freeStack.length;
    }

    public long totalTokens() {
        return (long) totalPages() * pageTokens;
    }

    /** Pages neither claimed nor promised to an open sequence. */
    public synchronized long availablePages() {
        return freeCount - reservedUnclaimed;
    }

    public int pagesForTokens(long tokens) {
        return (int) ((tokens + pageTokens - 1) / pageTokens);
    }

    /** How many sequences of {@code tokens} tokens each the whole pool holds at once. */
    public long maxSequencesOf(long tokens) {
        return totalPages() / Math.max(1, pagesForTokens(tokens));
    }

    public synchronized boolean fits(long worstCaseTokens) {
        return pagesForTokens(worstCaseTokens) <= availablePages();
    }

    /** Opens a sequence that may grow to {@code worstCaseTokens}; fails when they do not fit. */
    public synchronized Table open(long worstCaseTokens) {
        int need = pagesForTokens(worstCaseTokens);
        if (need > availablePages()) {
            throw new IllegalStateException("KV page pool: a sequence of up to " + worstCaseTokens + " tokens needs " + need
                    + " pages, " + availablePages() + " of " + totalPages() + " are available");
        }
        reservedUnclaimed += need;
        return new Table(need);
    }

    /** One sequence's pages in token order: token t lives in page {@code pages()[t / pageTokens]}. */
    public final class Table {
        private int[] pages = new int[4];
        private int count;
        private int reserved;
        private boolean released;

        private Table(int reserved) {
            this.reserved = reserved;
        }

        public int count() {
            return count;
        }

        public int page(int i) {
            return pages[i];
        }

        /** A copy of the page ids, in order. */
        public int[] pages() {
            return Arrays.copyOf(pages, count);
        }

        /** Token capacity of the pages held. */
        public long capacityTokens() {
            return (long) count * pageTokens;
        }

        /** Claims pages until {@code tokens} fit; beyond the reservation, from the free pages. */
        public void ensure(long tokens) {
            synchronized (PagePool.this) {
                if (released) {
                    throw new IllegalStateException("page table used after release");
                }
                int need = pagesForTokens(tokens);
                while (count < need) {
                    if (reserved > 0) {
                        reserved--;
                        reservedUnclaimed--;
                    } else if (freeCount - reservedUnclaimed <= 0) {
                        throw new IllegalStateException("KV page pool exhausted: " + totalPages() + " pages of "
                                + pageTokens + " tokens are all in use");
                    }
                    if (count == pages.length) {
                        pages = Arrays.copyOf(pages, count * 2);
                    }
                    pages[count++] = freeStack[--freeCount];
                }
            }
        }

        /** Gives every page and the unclaimed reservation back. Idempotent. */
        public void release() {
            synchronized (PagePool.this) {
                if (released) {
                    return;
                }
                released = true;
                for (int i = count - 1; i >= 0; i--) {
                    freeStack[freeCount++] = pages[i];
                }
                reservedUnclaimed -= reserved;
                reserved = 0;
                count = 0;
            }
        }
    }
}
