package kittyspark.runtime.kv;

import java.io.Serializable;

import kittyspark.kvquant.QuantConfig;

/**
 * A KV-cache mode and its parameters. {@link #of(KvMode)} gives the defaults of each mode;
 * the {@code with*} methods override one parameter (the CLI's --kv-boost-fraction, --kv-sink).
 * Serializable: the pipeline's job config carries it to Spark executors.
 *
 * @param mode          fp16, kivi or kitty
 * @param pageSize      tokens per quantized page (P)
 * @param boostFraction share of key channels boosted to 4 bits per page (f)
 * @param sink          first tokens kept in full precision forever (S)
 * @param valueWindow   most recent values kept in full precision (W)
 */
public record KvSettings(KvMode mode, int pageSize, double boostFraction, int sink, int valueWindow) implements Serializable {
    public static final int DEFAULT_PAGE_SIZE = 128;
    public static final int DEFAULT_VALUE_WINDOW = 128;
    public static final double KITTY_BOOST_FRACTION = 0.25;
    public static final int KITTY_SINK = 32;

    public KvSettings {
        if (mode == null) {
            throw new IllegalArgumentException("KV mode is required");
        }
        if (pageSize <= 0 || pageSize % 4 != 0) {
            throw new IllegalArgumentException("KV page size must be a positive multiple of 4, got " + pageSize);
        }
        if (!(boostFraction >= 0.0 && boostFraction <= 1.0)) {
            throw new IllegalArgumentException("KV boost fraction must be in [0, 1], got " + boostFraction);
        }
        if (sink < 0) {
            throw new IllegalArgumentException("KV sink must be >= 0, got " + sink);
        }
        if (valueWindow < 0) {
            throw new IllegalArgumentException("KV value window must be >= 0, got " + valueWindow);
        }
    }

    public static KvSettings of(KvMode mode) {
        return switch (mode) {
            case FP16 -> new KvSettings(mode, DEFAULT_PAGE_SIZE, 0.0, 0, DEFAULT_VALUE_WINDOW);
            case KIVI -> new KvSettings(mode, DEFAULT_PAGE_SIZE, 0.0, 0, DEFAULT_VALUE_WINDOW);
            case KITTY -> new KvSettings(mode, DEFAULT_PAGE_SIZE, KITTY_BOOST_FRACTION, KITTY_SINK, DEFAULT_VALUE_WINDOW);
        };
    }

    public static KvSettings parse(String mode) {
        return of(KvMode.parse(mode));
    }

    public KvSettings withBoostFraction(double f) {
        return new KvSettings(mode, pageSize, f, sink, valueWindow);
    }

    public KvSettings withSink(int s) {
        return new KvSettings(mode, pageSize, boostFraction, s, valueWindow);
    }

    public boolean quantized() {
        return mode != KvMode.FP16;
    }

    /** A stable text form, used in output fingerprints and reports. */
    public String describe() {
        if (!quantized()) {
            return mode.id();
        }
        return mode.id() + "(P=" + pageSize + ",f=" + boostFraction + ",S=" + sink + ",W=" + valueWindow + ")";
    }

    /** kvquant's parameters of this mode's pages (the one mapping from settings to pages). */
    public QuantConfig quantConfig() {
        return new QuantConfig(pageSize, boostFraction, sink, valueWindow);
    }
}
