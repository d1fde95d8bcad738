package kittyspark.kvquant;

/**
 * Parameters of the quantizer family. KIVI is {@code f = 0, S = 0}; Kitty is
 * {@code f = 0.25, S = 32} (the paper's kernel setting; 0.2 is its accuracy setting).
 *
 * @param pageSize      tokens per page (P)
 * @param boostFraction share of key channels boosted to 4 bits per page (f)
 * @param sink          first tokens kept in full precision forever (S)
 * @param valueWindow   most recent values kept in full precision (W)
 */
public record QuantConfig(int pageSize, double boostFraction, int sink, int valueWindow) {
    public QuantConfig {
        if (pageSize <= 0 || pageSize % 4 != 0) {
            throw new IllegalArgumentException("page size must be a positive multiple of 4, got " + pageSize);
        }
        if (!(boostFraction >= 0 && boostFraction <= 1)) {
            throw new IllegalArgumentException("boost fraction must be in [0, 1], got " + boostFraction);
        }
        if (sink < 0 || valueWindow < 0) {
            throw new IllegalArgumentException("sink and value window must be >= 0");
        }
    }

    public static QuantConfig kivi() {
        return new QuantConfig(128, 0.0, 0, 128);
    }

    public static QuantConfig kitty() {
        return new QuantConfig(128, 0.25, 32, 128);
    }

    public KeyPageLayout keyLayout(int headDim) {
        return new KeyPageLayout(pageSize, headDim, ChannelBoost.boostedChannels(boostFraction, headDim));
    }

    public ValuePageLayout valueLayout(int headDim) {
        return new ValuePageLayout(pageSize, headDim);
    }

    /**
     * Key pages a stream of {@code length} tokens holds once flushed: every full page of
     * {@code pageSize} keys after the sink. The one page-count rule (streams, memory, GPU pools).
     */
    public int keyPages(long length) {
        long first = Math.min(sink, length);
        return (int) ((length - first) / pageSize);
    }

    /** Value pages of a flushed stream: full pages after the sink that have also left the window of the latest values. */
    public int valuePages(long length) {
        long first = Math.min(sink, length);
        long windowStart = Math.max(first, length - valueWindow);
        return (int) ((windowStart - first) / pageSize);
    }

    /** First token of page {@code page} (keys and values alike). */
    public long pageStart(int page) {
        return sink + (long) page * pageSize;
    }
}
