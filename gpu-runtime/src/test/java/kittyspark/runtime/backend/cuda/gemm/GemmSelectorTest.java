package kittyspark.runtime.backend.cuda.gemm;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.IntToDoubleFunction;

import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmSelectorTest {
    /** Device time, advanced by the fake implementations as they "run". */
    private double clockMs;
    /** Every timing the selector asked for: "name@M". */
    private final List<String> timed = new ArrayList<>();

    /** A GEMM whose cost depends on M only; it records the calls that reach it. */
    private final class FakeGemm implements Gemm {
        final String name;
        final IntToDoubleFunction costMs;
        final IntPredicate takes;
        final List<String> calls = new ArrayList<>();
        RuntimeException failure;

        FakeGemm(String name, IntToDoubleFunction costMs) {
            this(name, costMs, m -> true);
        }

        FakeGemm(String name, IntToDoubleFunction costMs, IntPredicate takes) {
            this.name = name;
            this.costMs = costMs;
            this.takes = takes;
        }

        @Override
        public void run(CUdeviceptr aHi, CUdeviceptr aLo, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate) {
            if (failure != null) {
                throw failure;
            }
            clockMs += costMs.applyAsDouble(m);
            calls.add(m + "x" + n + "x" + k + (accumulate ? "+=" : ""));
        }

        @Override
        public String describe(int m, int n, int k) {
            return name;
        }

        @Override
        public boolean supports(int m, int n, int k) {
            return takes.test(m);
        }
    }

    /** Times a GEMM by the fake clock, as the device timer does by CUDA events. */
    private final GemmTimer timer = (gemm, m, n, k) -> {
        timed.add(gemm.describe(m, n, k) + "@" + m);
        double t0 = clockMs;
        gemm.run(null, null, null, null, m, n, k, false);
        return clockMs - t0;
    };

    @Test
    void mBucketsArePowersOfTwoCappedAtTheLargestM() {
        int[][] cases = {{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 32}, {257, 512}, {1500, 2048},
                {2048, 2048}};
        for (int[] c : cases) {
            assertEquals(c[1], GemmSelector.bucket(c[0], 2048), "bucket of M " + c[0]);
        }
        assertEquals(100, GemmSelector.bucket(70, 100), "the last bucket ends at the largest M");
        assertEquals(100, GemmSelector.bucket(100, 100));
        assertEquals(65, GemmSelector.bucketFrom(100));
        assertEquals(5, GemmSelector.bucketFrom(8));
        assertEquals(1, GemmSelector.bucketFrom(1));
        assertThrows(IllegalArgumentException.class, () -> GemmSelector.bucket(101, 100));
        assertThrows(IllegalArgumentException.class, () -> GemmSelector.bucket(0, 100));
    }

    @Test
    void eachBucketGoesToItsFastestImplementation() {
        FakeGemm gemv = new FakeGemm("gemv", m -> m <= 8 ? 1.0 : 20.0);
        FakeGemm lib = new FakeGemm("cublas", m -> 4.0);
        GemmSelector s = new GemmSelector(List.of(gemv, lib), timer, 256);
        assertSame(gemv, s.choose(1, 4096, 4096));
        assertSame(gemv, s.choose(8, 4096, 4096));
        assertSame(lib, s.choose(9, 4096, 4096));
        assertSame(lib, s.choose(256, 4096, 4096));
        assertEquals("cublas", s.describe(200, 4096, 4096));
    }

    @Test
    void aBucketIsTimedOnceAtItsLargestMAndThenReused() {
        FakeGemm a = new FakeGemm("a", m -> 1.0 + m);
        FakeGemm b = new FakeGemm("b", m -> 2.0 * m);
        GemmSelector s = new GemmSelector(List.of(a, b), timer, 2048);
        for (int m = 5; m <= 8; m++) {
            s.choose(m, 6144, 4096);
        }
        assertEquals(List.of("a@8", "b@8"), timed, "M 5..8 share one timing, made at M = 8");
        s.choose(3, 6144, 4096);
        assertEquals(List.of("a@8", "b@8", "a@4", "b@4"), timed);
        s.choose(7, 4096, 4096);
        assertEquals(6, timed.size(), "another N is another shape");
        GemmSelector.Choice c = s.choice(6, 6144, 4096);
        assertEquals(5, c.mFrom());
        assertEquals(8, c.m());
        assertEquals(9.0, c.millis().get("a"));
        assertEquals(16.0, c.millis().get("b"));
        assertEquals(6, timed.size(), "reading a choice does not time again");
    }

    @Test
    void equalSpeedsAndDifferencesWithinTheTieMarginKeepTheEarlierCandidate() {
        FakeGemm ours = new FakeGemm("ours", m -> 10.0);
        FakeGemm same = new FakeGemm("same speed", m -> 10.0);
        FakeGemm slightly = new FakeGemm("2% faster", m -> 9.8);
        GemmSelector s = new GemmSelector(List.of(ours, same, slightly), timer, 64);
        assertSame(ours, s.choose(16, 4096, 4096));

        FakeGemm clearly = new FakeGemm("5% faster", m -> 9.5);
        assertSame(clearly, new GemmSelector(List.of(ours, slightly, clearly), timer, 64).choose(16, 4096, 4096));
        assertSame(slightly, new GemmSelector(List.of(ours, slightly), timer, 64, 0.0).choose(16, 4096, 4096),
                "without a margin any gain counts");
    }

    @Test
    void withOnlyOurKernelsNothingIsTimedAndCallsGoStraightThrough() {
        FakeGemm ours = new FakeGemm("ours", m -> 1.0);
        GemmSelector s = new GemmSelector(List.of(ours), timer, 2048);
        s.run(null, null, null, null, 64, 4096, 14336, true);
        s.prepare(4096, 4096, 2048);
        assertEquals(List.of(), timed, "nothing to choose between");
        assertEquals(List.of("64x4096x14336+="), ours.calls);
        GemmSelector.Choice c = s.choice(64, 4096, 14336);
        assertTrue(c.millis().isEmpty());
        assertEquals("M 33-64 N 4096 K 14336: ours", c.summary());
    }

    @Test
    void callsReachTheChosenImplementationWithTheirArguments() {
        FakeGemm slow = new FakeGemm("slow", m -> 5.0);
        FakeGemm fast = new FakeGemm("fast", m -> 1.0);
        GemmSelector s = new GemmSelector(List.of(slow, fast), timer, 512);
        s.run(null, null, null, null, 300, 28672, 4096, false);
        s.run(null, null, null, null, 299, 28672, 4096, true);
        assertEquals(List.of("512x28672x4096", "300x28672x4096", "299x28672x4096+="), fast.calls,
                "the timing run (at the bucket's M), then both calls");
        assertEquals(List.of("512x28672x4096"), slow.calls, "timed only");
    }

    @Test
    void candidatesThatDeclineAShapeAreNotTimedAndACallBelowTheirRangeFallsBack() {
        FakeGemm ours = new FakeGemm("ours", m -> 10.0);
        FakeGemm rank3 = new FakeGemm("lt#3", m -> 1.0, m -> m >= 8);
        GemmSelector s = new GemmSelector(List.of(ours, rank3), timer, 64);
        assertSame(ours, s.choose(2, 4096, 4096));
        assertEquals(List.of(), timed, "only ours takes M = 2");
        assertSame(rank3, s.choose(6, 4096, 4096), "timed at M = 8, which it takes");
        assertEquals(List.of("ours@8", "lt#3@8"), timed);
        s.run(null, null, null, null, 6, 4096, 4096, false);
        assertEquals(List.of("8x4096x4096"), rank3.calls, "M = 6 is below rank 3's range");
        assertEquals(List.of("8x4096x4096", "6x4096x4096"), ours.calls, "timed at M = 8, then the call at M = 6");
        assertEquals("ours", s.describe(6, 4096, 4096));
    }

    @Test
    void aCandidateThatFailsWhenTimedIsLeftOutOfItsBucketWithTheReason() {
        FakeGemm ours = new FakeGemm("ours", m -> 10.0);
        FakeGemm broken = new FakeGemm("cublasLt#0", m -> 1.0);
        broken.failure = new IllegalStateException("cublasLtMatmul failed: CUBLAS_STATUS_NOT_SUPPORTED");
        GemmSelector s = new GemmSelector(List.of(ours, broken), timer, 64);
        assertSame(ours, s.choose(64, 4096, 4096));
        GemmSelector.Choice c = s.choice(64, 4096, 4096);
        assertEquals("cublasLtMatmul failed: CUBLAS_STATUS_NOT_SUPPORTED", c.rejected().get("cublasLt#0"));
        assertTrue(c.summary().contains("cublasLt#0 failed: cublasLtMatmul failed"), c.summary());

        broken.failure = new IllegalStateException("again");
        FakeGemm alsoBroken = new FakeGemm("b", m -> 1.0);
        alsoBroken.failure = new IllegalStateException("no");
        GemmSelector none = new GemmSelector(List.of(broken, alsoBroken), timer, 64);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> none.choose(64, 4096, 4096));
        assertTrue(e.getMessage().contains("every GEMM implementation failed"), e.getMessage());
    }

    @Test
    void candidatesThatRunTheSameKernelsAreTimedOnce() {
        FakeGemm withGemv = new FakeGemm("gemm_tiled_plain", m -> 3.0);
        FakeGemm withoutGemv = new FakeGemm("gemm_tiled_plain", m -> 3.0);
        FakeGemm lib = new FakeGemm("cublasLt#0", m -> 1.0);
        GemmSelector s = new GemmSelector(List.of(withGemv, withoutGemv, lib), timer, 2048);
        assertSame(lib, s.choose(2048, 4096, 4096));
        assertEquals(List.of("gemm_tiled_plain@2048", "cublasLt#0@2048"), timed);
    }

    @Test
    void prepareTimesEveryBucketOfTheShapeUpFrontUpToItsLargestM() {
        FakeGemm a = new FakeGemm("a", m -> m);
        FakeGemm b = new FakeGemm("b", m -> 40.0);
        GemmSelector s = new GemmSelector(List.of(a, b), timer, 2048);
        s.prepare(128256, 4096, 100);
        assertEquals(List.of(1, 2, 4, 8, 16, 32, 64, 100), s.choices().stream().map(GemmSelector.Choice::m).toList());
        int before = timed.size();
        s.run(null, null, null, null, 77, 128256, 4096, false);
        assertEquals(before, timed.size(), "prepared: no step pays for timing");
        assertSame(b, s.choose(77, 128256, 4096));
        assertSame(a, s.choose(32, 128256, 4096));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.choose(101, 128256, 4096));
        assertTrue(e.getMessage().contains("1..100"), e.getMessage());
        assertSame(b, s.choose(2048, 4096, 4096), "an unprepared shape takes the default largest M");
    }

    @Test
    void theSummaryNamesTheChoiceAndWhatItBeat() {
        FakeGemm a = new FakeGemm("gemm_gemv_m8", m -> 0.0125);
        FakeGemm b = new FakeGemm("cublasLt#0 algo 21", m -> 0.02);
        GemmSelector s = new GemmSelector(List.of(a, b), timer, 2048);
        assertEquals("M 1 N 4096 K 4096: gemm_gemv_m8 0.0125 ms (cublasLt#0 algo 21 0.0200 ms)",
                s.choice(1, 4096, 4096).summary());
    }
}
