package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.StepCapacity;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.CpuBackedFake;
import kittyspark.runtime.testing.TestData;
import kittyspark.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler builds only steps the backend can run as one step, as a device backend that
 * samples where the logits are needs: a step is never split or sampled another way, so a seeded
 * request's tokens do not depend on what else shares its steps.
 */
class SchedulerStepCapacityTest {
    private static final KvSettings FP = KvSettings.parse("fp16");
    private static CpuBackend cpu;

    /** The CPU model behind a step of at most {@code rows} rows and {@code samples} sampled rows; refuses larger steps. */
    static final class SmallStepBackend extends CpuBackedFake {
        final int rows;
        final int samples;
        int steps;
        int largestStep;

        SmallStepBackend(int rows, int samples) {
            super(cpu, "small-step-cpu");
            this.rows = rows;
            this.samples = samples;
        }

        @Override
        public StepCapacity newStep() {
            int[] left = {rows, samples};
            return (sequence, want, sampled) -> {
                int take = Math.min(want, left[0]);
                if (take == 0 || (sampled && left[1] == 0)) {
                    return 0;
                }
                left[0] -= take;
                left[1] -= sampled ? 1 : 0;
                return take;
            };
        }

        @Override
        public synchronized List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> specs) {
            int r = batch.stream().mapToInt(in -> in.tokens().length).sum();
            long s = specs.stream().filter(x -> x != null).count();
            if (r > rows || s > samples) {
                throw new IllegalStateException("step of " + r + " rows and " + s + " samples exceeds " + rows + "/" + samples);
            }
            steps++;
            largestStep = Math.max(largestStep, r);
            return super.forwardAndSample(batch, specs);
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

    private static GenerationEngine engine(Backend b) {
        Tokenizer tok = Tokenizer.load(TestData.demoModel().resolve("tokenizer.json"));
        return new GenerationEngine(b, tok, EngineOptions.cpu(TestData.demoModel()).withMaxBatch(8), "small", Set.of(-1));
    }

    private static int[] prompt(int n, int base) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = base + i;
        }
        return p;
    }

    private static SamplingParams seeded() {
        return new SamplingParams(12, 0.9, 0, 0.95, 1234L, List.of());
    }

    @Test
    void everyStepFitsTheBackendsCapacityAndEveryRequestCompletes() throws Exception {
        SmallStepBackend b = new SmallStepBackend(24, 2);
        try (GenerationEngine e = engine(b)) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(e.submit(new GenerationRequest("r" + i, prompt(20, 100 + 7 * i), SamplingParams.greedy(6), FP)));
            }
            for (CompletableFuture<GenerationResult> f : fs) {
                GenerationResult r = f.get();
                assertNull(r.error(), r.error());
                assertEquals(6, r.tokens().length);
            }
        }
        assertTrue(b.largestStep <= 24, "largest step " + b.largestStep);
        assertTrue(b.steps > 0);
    }

    @Test
    void aSeededRequestDrawsTheSameTokensAloneAndAmongOthers() throws Exception {
        int[] mine = prompt(30, 300);
        GenerationResult alone;
        try (GenerationEngine e = engine(new SmallStepBackend(64, 8))) {
            alone = e.submit(new GenerationRequest("alone", mine, seeded(), FP)).get();
        }
        GenerationResult crowded;
        try (GenerationEngine e = engine(new SmallStepBackend(16, 2))) {
            List<CompletableFuture<GenerationResult>> others = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                others.add(e.submit(new GenerationRequest("o" + i, prompt(25, 500 + 11 * i), seeded(), FP)));
            }
            crowded = e.submit(new GenerationRequest("mine", mine, seeded(), FP)).get();
            for (CompletableFuture<GenerationResult> f : others) {
                assertNull(f.get().error(), f.get().error());
            }
        }
        assertNull(alone.error(), alone.error());
        assertNull(crowded.error(), crowded.error());
        assertArrayEquals(alone.tokens(), crowded.tokens(), "same seed, same tokens, whatever shares the steps");
    }
}
