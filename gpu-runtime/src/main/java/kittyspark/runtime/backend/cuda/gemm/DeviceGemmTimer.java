package kittyspark.runtime.backend.cuda.gemm;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcuda.driver.CUdeviceptr;

/**
 * Times GEMMs on the device for {@link GemmSelector}, on buffers registered per (N, K): the
 * operand planes, the weights to cycle through and an output buffer. Consecutive calls read
 * different weights (a model's layers, or copies) so that, as in a real step, weights come from
 * HBM and not from L2 (50 MB on an H200 holds a whole 4096 x 4096 bf16 matrix).
 */
public final class DeviceGemmTimer implements GemmTimer {
    /** Rounds per measurement (the median is kept). */
    public static final int ROUNDS = 3;
    /** Device time a round aims at. */
    public static final double ROUND_MILLIS = 1.0;
    public static final int MAX_CALLS = 32;

    private final EventTimer events;
    private final CUdeviceptr aHi;
    private final CUdeviceptr aLo;
    private final Map<Long, Buffers> shapes = new HashMap<>();

    private record Buffers(List<CUdeviceptr> weights, CUdeviceptr out) {
    }

    /**
     * @param aHi the operand's bf16 plane, room for the largest M x K timed
     * @param aLo its low plane (split precision) or null
     */
    public DeviceGemmTimer(EventTimer events, CUdeviceptr aHi, CUdeviceptr aLo) {
        this.events = events;
        this.aHi = aHi;
        this.aLo = aLo;
    }

    /**
     * Registers the buffers of N x K GEMMs.
     *
     * @param weights bf16 [N, K] matrices to cycle through (one is enough where it outsizes L2)
     * @param out     fp32 room for the largest M x N timed, free while timing runs
     */
    public DeviceGemmTimer shape(int n, int k, List<CUdeviceptr> weights, CUdeviceptr out) {
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("no weights to time " + n + " x " + k + " GEMMs on");
        }
        shapes.put(key(n, k), new Buffers(List.copyOf(weights), out));
        return this;
    }

    @Override
    public double millis(Gemm gemm, int m, int n, int k) {
        Buffers b = shapes.get(key(n, k));
        if (b == null) {
            throw new IllegalStateException("no buffers registered for timing " + n + " x " + k + " GEMMs");
        }
        List<CUdeviceptr> w = b.weights();
        return events.millisPerCall(i -> gemm.run(aHi, aLo, w.get(i % w.size()), b.out(), m, n, k, false), ROUNDS,
                ROUND_MILLIS, MAX_CALLS);
    }

    private static long key(int n, int k) {
        return ((long) n << 32) | k;
    }
}
