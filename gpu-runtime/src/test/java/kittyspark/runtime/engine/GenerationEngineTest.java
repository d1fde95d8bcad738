package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.eval.HfReference;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.TestData;
import kittyspark.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerationEngineTest {
    static final KvSettings FP = KvSettings.parse("fp16");
    static GenerationEngine engine;
    static List<HfReference.Doc> docs;

    @BeforeAll
    static void start() {
        engine = GenerationEngine.open(EngineOptions.cpu(TestData.demoModel()).withMaxBatch(8));
        docs = HfReference.load(TestData.evalFile("heldout-public-hfref.json"));
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static GenerationResult run(GenerationEngine e, int[] prompt, SamplingParams p) throws Exception {
        return e.submit(new GenerationRequest("r", prompt, p, FP)).get();
    }

    private static int[] prompt(int doc, int len) {
        return Arrays.copyOf(docs.get(doc).tokenIds(), len);
    }

    private static SamplingParams sampled(long seed, int n) {
        return new SamplingParams(n, 0.9, 0, 0.95, seed, List.of());
    }

    @Test
    void greedyContinuationsMatchHuggingFace() throws Exception {
        for (int d = 0; d < 2; d++) {
            HfReference.Doc ref = docs.get(d);
            GenerationResult r = run(engine, prompt(d, ref.greedyPromptLen()), SamplingParams.greedy(ref.greedy().length));
            assertArrayEquals(ref.greedy(), r.tokens(), "doc " + ref.id());
            assertEquals(FinishReason.LENGTH, r.finishReason());
        }
    }

    @Test
    void sameSeedGivesSameTokensWhateverElseIsInTheBatch() throws Exception {
        int[] mine = prompt(3, 100);
        int[] alone = run(engine, mine, sampled(42, 24)).tokens();
        List<CompletableFuture<GenerationResult>> crowd = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            crowd.add(engine.submit(new GenerationRequest("n" + i, prompt(4 + i, 30 + 40 * i), sampled(i, 30), FP)));
        }
        CompletableFuture<GenerationResult> again = engine.submit(new GenerationRequest("me", mine, sampled(42, 24), FP));
        crowd.forEach(CompletableFuture::join);
        assertArrayEquals(alone, again.get().tokens());
    }

    @Test
    void differentSeedsSampleDifferentTokens() throws Exception {
        int[] p = prompt(5, 64);
        assertFalse(Arrays.equals(run(engine, p, sampled(1, 32)).tokens(), run(engine, p, sampled(2, 32)).tokens()));
    }

    @Test
    void sequencesOfDifferentLengthsDecodeTogetherAndEachMatchesItsSoloRun() throws Exception {
        int[][] prompts = {prompt(6, 17), prompt(7, 200), prompt(8, 63), prompt(9, 5)};
        int[] budgets = {20, 7, 13, 30};
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            futures.add(engine.submit(new GenerationRequest("b" + i, prompts[i], SamplingParams.greedy(budgets[i]), FP)));
        }
        for (int i = 0; i < prompts.length; i++) {
            GenerationResult together = futures.get(i).get();
            assertEquals(budgets[i], together.completionTokens());
            assertArrayEquals(run(engine, prompts[i], SamplingParams.greedy(budgets[i])).tokens(), together.tokens());
        }
        assertTrue(engine.stats().maxConcurrent() > 1, "requests were batched: " + engine.stats());
    }

    @Test
    void stopStringEndsTheCompletionJustBeforeIt() throws Exception {
        int[] p = prompt(10, 300);
        String free = run(engine, p, SamplingParams.greedy(40)).completion();
        String stop = free.substring(10, 14);
        int cut = free.indexOf(stop);
        GenerationResult r = run(engine, p, new SamplingParams(40, 0, 0, 1, 0, List.of(stop)));
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(free.substring(0, cut), r.completion());
    }

    @Test
    void eosTokenEndsTheSequenceAndIsNotInTheText() throws Exception {
        int[] p = prompt(11, 50);
        int first = run(engine, p, SamplingParams.greedy(1)).tokens()[0];
        Tokenizer tok = engine.tokenizer();
        try (GenerationEngine e = new GenerationEngine(
                new CpuBackend(Checkpoint.open(TestData.demoModel()), 1), tok, engine.options(), "demo", Set.of(first))) {
            GenerationResult r = run(e, p, SamplingParams.greedy(10));
            assertEquals(FinishReason.EOS, r.finishReason());
            assertArrayEquals(new int[] {first}, r.tokens());
            assertEquals("", r.completion());
        }
    }

    @Test
    void zeroNewTokensGivesAnEmptyCompletion() throws Exception {
        GenerationResult r = run(engine, prompt(12, 10), SamplingParams.greedy(0));
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("", r.completion());
        assertNull(r.error());
    }

    @Test
    void promptBeyondTheContextIsAnErrorResultNotAnException() throws Exception {
        int[] huge = new int[engine.config().maxPositionEmbeddings()];
        GenerationResult r = run(engine, huge, SamplingParams.greedy(4));
        assertEquals(FinishReason.ERROR, r.finishReason());
        assertTrue(r.error().contains("context"), r.error());
    }

    @Test
    void meanLogprobIsTheModelsLogprobOfTheGeneratedTokens() throws Exception {
        int[] p = prompt(13, 80);
        GenerationResult r = run(engine, p, SamplingParams.greedy(8));
        KvFidelity.Result f = engine.fidelity(p, r.tokens(), FP);
        assertEquals(f.refMeanLogprob(), r.meanLogprob(), 1e-4);
        assertEquals(1.0, f.top1Agreement());
        assertEquals(0.0, f.kl(), 1e-9);
    }
}
