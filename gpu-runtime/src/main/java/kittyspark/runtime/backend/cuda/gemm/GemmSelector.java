package kittyspark.runtime.backend.cuda.gemm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import jcuda.driver.CUdeviceptr;

/**
 * The GEMM plan per shape: of several {@link Gemm} implementations, the fastest for each
 * (M bucket, N, K), timed once with a {@link GemmTimer} and kept. The selector is itself the
 * backend's {@link Gemm}: each call goes to its bucket's choice.
 *
 * <p>M buckets are powers of two (1, 2, 3-4, 5-8, ...), the last one capped at the largest M
 * of the shape; a bucket is timed at its largest M. Candidates come in order of preference: a
 * later one must beat the best so far by more than the tie margin (timing noise), so equal
 * speeds keep the earlier one. Candidates that decline the shape ({@link Gemm#supports}) are
 * not timed, nor one that runs the same kernels as an earlier one (equal {@link Gemm#describe});
 * one that fails when timed is left out of that bucket, with the reason in its {@link Choice}.
 *
 * <p>A bucket is timed the first time it is used, or up front through {@link #prepare} (at
 * engine start, so that no step pays for it). Not thread-safe: the backend calls it under
 * its lock.
 */
public final class GemmSelector implements Gemm {
    /** How much faster a later candidate must be to displace an earlier one. */
    public static final double TIE_MARGIN = 0.03;

    private final List<Gemm> candidates;
    private final GemmTimer timer;
    private final int defaultMaxM;
    private final double tieMargin;
    private final Map<Long, Integer> maxM = new HashMap<>();
    private final Map<Key, Choice> choices = new TreeMap<>(Comparator.comparingInt(Key::n).thenComparingInt(Key::k)
            .thenComparingInt(Key::m));

    /**
     * One bucket's choice.
     *
     * @param mFrom          the bucket's smallest M
     * @param m              its largest M, the one timed
     * @param implementation the chosen candidate's description at M
     * @param millis         each timed candidate's milliseconds per call, by description (empty
     *                       when only one candidate took the shape)
     * @param rejected       candidates that failed when timed, with the reason
     */
    public record Choice(int mFrom, int m, int n, int k, Gemm gemm, String implementation, Map<String, Double> millis,
                         Map<String, String> rejected) {
        /** e.g. "M 33-64 N 6144 K 4096: cublasLt#0 ... 0.041 ms (gemm_decode_m4 x2 splits 0.063 ms)". */
        public String summary() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "M %s N %d K %d: %s",
                    mFrom == m ? Integer.toString(m) : mFrom + "-" + m, n, k, implementation));
            Double ms = millis.get(implementation);
            if (ms != null) {
                sb.append(String.format(Locale.ROOT, " %.4f ms", ms));
            }
            List<String> others = new ArrayList<>();
            millis.forEach((d, t) -> {
                if (!d.equals(implementation)) {
                    others.add(String.format(Locale.ROOT, "%s %.4f ms", d, t));
                }
            });
            rejected.forEach((d, why) -> others.add(d + " failed: " + why));
            if (!others.isEmpty()) {
                sb.append(" (").append(String.join("; ", others)).append(')');
            }
            return sb.toString();
        }
    }

    private record Key(int m, int n, int k) {
    }

    /**
     * @param candidates  implementations in order of preference (our own kernels first)
     * @param defaultMaxM the largest M of a shape not {@link #prepare}d
     */
    public GemmSelector(List<Gemm> candidates, GemmTimer timer, int defaultMaxM) {
        this(candidates, timer, defaultMaxM, TIE_MARGIN);
    }

    public GemmSelector(List<Gemm> candidates, GemmTimer timer, int defaultMaxM, double tieMargin) {
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("a GEMM selector needs at least one implementation");
        }
        if (defaultMaxM < 1) {
            throw new IllegalArgumentException("the largest M must be positive, not " + defaultMaxM);
        }
        this.candidates = List.copyOf(candidates);
        this.timer = timer;
        this.defaultMaxM = defaultMaxM;
        this.tieMargin = tieMargin;
    }

    /** The largest M of {@code m}'s bucket: the next power of two, capped at {@code maxM}. */
    public static int bucket(int m, int maxM) {
        if (m < 1 || m > maxM) {
            throw new IllegalArgumentException("M " + m + " is outside 1.." + maxM + " (the largest M this GEMM was planned for)");
        }
        long top = m == 1 ? 1 : Long.highestOneBit(m - 1L) << 1;
        return (int) Math.min(top, maxM);
    }

    /** The smallest M of the bucket whose largest M is {@code top}. */
    static int bucketFrom(int top) {
        return top == 1 ? 1 : Integer.highestOneBit(top - 1) + 1;
    }

    /** Plans N x K GEMMs for M up to {@code maxM}: times every bucket now. */
    public void prepare(int n, int k, int maxM) {
        if (maxM < 1) {
            throw new IllegalArgumentException("the largest M must be positive, not " + maxM);
        }
        this.maxM.put(shape(n, k), maxM);
        for (int top = 1; ; top = Math.min(2 * top, maxM)) {
            choose(top, n, k);
            if (top == maxM) {
                break;
            }
        }
    }

    /** The implementation that computes {@code m x n x k} (timing its bucket first if needed). */
    public Gemm choose(int m, int n, int k) {
        return choice(m, n, k).gemm();
    }

    /** The bucket's choice with its timings (timing it first if needed). */
    public Choice choice(int m, int n, int k) {
        int top = bucket(m, maxM.getOrDefault(shape(n, k), defaultMaxM));
        Key key = new Key(top, n, k);
        Choice c = choices.get(key);
        if (c == null) {
            c = select(top, n, k);
            choices.put(key, c);
        }
        return c;
    }

    /** Every bucket chosen so far, by N, K and M. */
    public List<Choice> choices() {
        return List.copyOf(choices.values());
    }

    private Choice select(int m, int n, int k) {
        List<Gemm> able = candidates.stream().filter(g -> g.supports(m, n, k)).toList();
        if (able.isEmpty()) {
            throw new IllegalStateException("no GEMM implementation takes " + m + " x " + n + " x " + k);
        }
        if (able.size() == 1) {
            Gemm only = able.get(0);
            return new Choice(bucketFrom(m), m, n, k, only, only.describe(m, n, k), Map.of(), Map.of());
        }
        Map<String, Double> millis = new LinkedHashMap<>();
        Map<String, String> rejected = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        Gemm best = null;
        String bestName = null;
        double bestMs = Double.POSITIVE_INFINITY;
        for (Gemm g : able) {
            String name = g.describe(m, n, k);
            if (!seen.add(name)) {
                continue; // the same kernels as an earlier candidate
            }
            double ms;
            try {
                ms = timer.millis(g, m, n, k);
            } catch (RuntimeException e) {
                rejected.put(name, String.valueOf(e.getMessage()));
                continue;
            }
            if (!(ms > 0) || Double.isInfinite(ms)) {
                rejected.put(name, "timed at " + ms + " ms");
                continue;
            }
            millis.put(name, ms);
            if (best == null || ms < bestMs * (1 - tieMargin)) {
                best = g;
                bestName = name;
                bestMs = ms;
            }
        }
        if (best == null) {
            throw new IllegalStateException("every GEMM implementation failed at " + m + " x " + n + " x " + k + ": " + rejected);
        }
        return new Choice(bucketFrom(m), m, n, k, best, bestName, Collections.unmodifiableMap(millis),
                Collections.unmodifiableMap(rejected));
    }

    @Override
    public void run(CUdeviceptr aHi, CUdeviceptr aLo, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate) {
        Gemm g = choose(m, n, k);
        if (!g.supports(m, n, k)) {
            g = fallback(m, n, k);
        }
        g.run(aHi, aLo, w, out, m, n, k, accumulate);
    }

    /** The bucket's choice was timed at the bucket's largest M: the first candidate that takes this M instead. */
    private Gemm fallback(int m, int n, int k) {
        for (Gemm g : candidates) {
            if (g.supports(m, n, k)) {
                return g;
            }
        }
        throw new IllegalStateException("no GEMM implementation takes " + m + " x " + n + " x " + k);
    }

    @Override
    public String describe(int m, int n, int k) {
        Gemm g = choose(m, n, k);
        return (g.supports(m, n, k) ? g : fallback(m, n, k)).describe(m, n, k);
    }

    @Override
    public boolean supports(int m, int n, int k) {
        return candidates.stream().anyMatch(g -> g.supports(m, n, k));
    }

    private static long shape(int n, int k) {
        return ((long) n << 32) | k;
    }
}
