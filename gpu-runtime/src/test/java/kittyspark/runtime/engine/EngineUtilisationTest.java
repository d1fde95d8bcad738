package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvFootprint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.CpuBackedFake;
import kittyspark.runtime.testing.TestData;
import kittyspark.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The engine publishes how many sequences of a shape it can run (admission's own limits) and
 * counts how well its steps used that: steps below 90% of the admissible batch, time with a
 * step running and time idle since the first request.
 */
class EngineUtilisationTest {
    private static final KvSettings FP = KvSettings.parse("fp16");
    private static final long STEP_NANOS = 10_000_000L;
    private static CpuBackend cpu;

    /** The CPU model on a scripted clock (each step takes 10 ms), a pool of {@code poolSequences}, and a gate on steps. */
    static final class ScriptedBackend extends CpuBackedFake {
        final AtomicLong clock = new AtomicLong();
        final java.util.concurrent.atomic.AtomicInteger entered = new java.util.concurrent.atomic.AtomicInteger();
        final long poolSequences;
        volatile CountDownLatch hold = new CountDownLatch(0);

        ScriptedBackend(long poolSequences) {
            super(cpu, "scripted-cpu");
            this.poolSequences = poolSequences;
        }

        @Override
        public List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> samples) {
            entered.incrementAndGet();
            try {
                hold.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            clock.addAndGet(STEP_NANOS);
            return super.forwardAndSample(batch, samples);
        }

        @Override
        public long maxSequences(KvSettings kv, long worstCaseTokens) {
            return poolSequences;
        }

    }

    @BeforeAll
    static void load() {
        cpu = new CpuBackend(Checkpoint.open(TestData.demoModel()), 2);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    private static GenerationEngine engine(ScriptedBackend b, int maxBatch, long kvBudget) {
        Tokenizer tok = Tokenizer.load(TestData.demoModel().resolve("tokenizer.json"));
        EngineOptions o = EngineOptions.cpu(TestData.demoModel()).withMaxBatch(maxBatch).withKvBudgetBytes(kvBudget);
        return new GenerationEngine(b, tok, o, "scripted", Set.of(-1), b.clock::get);
    }

    private static GenerationRequest request(String id) {
        return new GenerationRequest(id, new int[] {11, 12, 13, 14}, SamplingParams.greedy(5), FP);
    }

    @Test
    void capacityIsTheSmallestOfMaxBatchKvBudgetAndPool() {
        long bytes = KvFootprint.bytesFor(FP, cpu.config().kvGeometry(), 10 + 5);
        try (GenerationEngine e = engine(new ScriptedBackend(Long.MAX_VALUE), 6, 0)) {
            assertEquals(6, e.capacity(FP, 10, 5), "no budget, no pool: the batch size");
        }
        try (GenerationEngine e = engine(new ScriptedBackend(Long.MAX_VALUE), 6, 3 * bytes + bytes / 2)) {
            assertEquals(3, e.capacity(FP, 10, 5), "three sequences' exact KV bytes fit the budget");
            assertEquals(6, e.capacity(FP, 1, 1), "shorter sequences: more fit, up to the batch size");
        }
        try (GenerationEngine e = engine(new ScriptedBackend(2), 6, 0)) {
            assertEquals(2, e.capacity(FP, 10, 5), "the backend's pool holds two");
        }
        try (GenerationEngine e = engine(new ScriptedBackend(Long.MAX_VALUE), 6, bytes / 2)) {
            assertEquals(1, e.capacity(FP, 10, 5), "admission always lets one in when idle");
        }
    }

    @Test
    void countsUnderfullStepsBusyAndIdleTimeOfAScriptedRun() throws Exception {
        ScriptedBackend b = new ScriptedBackend(Long.MAX_VALUE);
        try (GenerationEngine e = engine(b, 4, 0)) {
            // One request alone: 5 steps (prefill + first token, 4 decodes) at batch 1 of 4.
            assertNull(e.submit(request("alone")).get().error());
            EngineStats s = e.stats();
            assertEquals(5, s.steps());
            assertEquals(5, s.underfullSteps());
            assertEquals(4, s.admissibleBatch());
            assertEquals(5 * STEP_NANOS, s.busyNanos());
            assertEquals(0, s.idleNanos());

            b.clock.addAndGet(1_000_000_000L); // a second with nothing to do
            b.hold = new CountDownLatch(1);
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            fs.add(e.submit(request("a")));
            while (b.entered.get() < 5 + 1) {
                Thread.sleep(1); // "a" is admitted alone; its first step waits on the gate
            }
            for (String id : new String[] {"b", "c", "d"}) {
                fs.add(e.submit(request(id)));
            }
            b.hold.countDown();
            for (CompletableFuture<GenerationResult> f : fs) {
                assertNull(f.get().error());
            }
            // a alone (underfull), then a + b, c, d for 4 steps (full), then b, c, d's last token: 3 < 0.9 x 4.
            s = e.stats();
            assertEquals(5 + 6, s.steps());
            assertEquals(5 + 2, s.underfullSteps());
            assertEquals(11 * STEP_NANOS, s.busyNanos());
            assertEquals(1_000_000_000L, s.idleNanos());
            assertEquals(11.0 * STEP_NANOS / (11 * STEP_NANOS + 1_000_000_000L), s.busyFraction(), 1e-12);
            assertEquals(1.0 - 7.0 / 11, s.fullBatchFraction(), 1e-12);
        }
    }
}
