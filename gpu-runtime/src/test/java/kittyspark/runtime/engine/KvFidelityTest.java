package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fidelity re-scoring on the demo model (CPU): measured in batches, with the full-precision pass
 * fed as one chunk and the generation's kept logits standing in for the quantized pass, it gives
 * what re-scoring one completion at a time, token by token, gives.
 */
class KvFidelityTest {
    static final KvSettings KITTY = KvSettings.parse("kitty");
    static final KvSettings FP16 = KvSettings.parse("fp16");
    static GenerationEngine engine;
    static Backend backend;

    @BeforeAll
    static void start() {
        engine = GenerationEngine.open(EngineOptions.cpu(TestData.demoModel()).withMaxBatch(8));
        backend = engine.backend();
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static int[] doc(int d, int from, int len) {
        return Arrays.copyOfRange(TestData.refDocs().get(d).tokenIds(), from, from + len);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** The definition, one completion alone: both passes prefill the prompt and decode the completion token by token. */
    private static KvFidelity.Result tokenByToken(int[] prompt, int[] completion, KvSettings kv) {
        int[] all = concat(prompt, completion);
        float[] quant = TeacherForcing.decodeLogits(backend, kv, List.of(all), List.of(prompt.length)).get(0);
        float[] ref = TeacherForcing.decodeLogits(backend, FP16, List.of(all), List.of(prompt.length)).get(0);
        int vocab = backend.config().vocabSize();
        double refLp = 0;
        double quantLp = 0;
        double kl = 0;
        int agree = 0;
        for (int j = 0; j < completion.length; j++) {
            int off = j * vocab;
            refLp += kittyspark.runtime.sampling.LogitMath.logProb(ref, off, vocab, completion[j]);
            quantLp += kittyspark.runtime.sampling.LogitMath.logProb(quant, off, vocab, completion[j]);
            kl += kittyspark.runtime.sampling.LogitMath.kl(ref, off, quant, off, vocab);
            agree += kittyspark.runtime.sampling.LogitMath.argmax(ref, off, vocab)
                    == kittyspark.runtime.sampling.LogitMath.argmax(quant, off, vocab) ? 1 : 0;
        }
        int n = completion.length;
        return new KvFidelity.Result(refLp / n, quantLp / n, (refLp - quantLp) / n, (double) agree / n, kl / n);
    }

    @Test
    void theFullPrecisionPassFedAsOneChunkGivesTheLogitsOfDecodingTokenByToken() {
        List<int[]> seqs = List.of(doc(0, 0, 230), doc(1, 0, 161), doc(2, 0, 100));
        List<Integer> prefills = List.of(200, 150, 99);
        List<float[]> decoded = TeacherForcing.decodeLogits(backend, FP16, seqs, prefills);
        List<float[]> chunked = TeacherForcing.chunkLogits(backend, FP16, seqs, prefills);
        for (int i = 0; i < seqs.size(); i++) {
            assertEquals((seqs.get(i).length - prefills.get(i)) * backend.config().vocabSize(), chunked.get(i).length);
            assertArrayEquals(decoded.get(i), chunked.get(i), 1e-4f, "sequence " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> TeacherForcing.chunkLogits(backend, KITTY, seqs, prefills));
    }

    @Test
    void completionsReScoredTogetherGetTheResultsOfEachAloneAndOfTheTokenByTokenDefinition() {
        List<KvFidelity.Request> requests = List.of(
                new KvFidelity.Request(doc(3, 0, 300), doc(3, 300, 24), KITTY),
                new KvFidelity.Request(doc(4, 0, 140), new int[0], KITTY),
                new KvFidelity.Request(doc(5, 0, 200), doc(5, 200, 9), KITTY),
                new KvFidelity.Request(doc(6, 0, 170), doc(6, 170, 31), KITTY));
        List<KvFidelity.Result> together = KvFidelity.measureAll(backend, requests);
        for (int i = 0; i < requests.size(); i++) {
            KvFidelity.Request r = requests.get(i);
            KvFidelity.Result alone = KvFidelity.measure(backend, r.prompt(), r.completion(), r.kv());
            assertEquals(alone, together.get(i), "request " + i + ": the CPU's rows do not depend on their batch");
            if (r.completion().length == 0) {
                assertTrue(Double.isNaN(alone.kl()));
                continue;
            }
            KvFidelity.Result definition = tokenByToken(r.prompt(), r.completion(), r.kv());
            assertEquals(definition.quantMeanLogprob(), alone.quantMeanLogprob(), 0.0, "the quantized pass is unchanged");
            assertEquals(definition.refMeanLogprob(), alone.refMeanLogprob(), 1e-5);
            assertEquals(definition.kl(), alone.kl(), 1e-5);
            assertEquals(definition.top1Agreement(), alone.top1Agreement());
            assertTrue(alone.kl() > 0, "the quantized pass really read 2-bit pages");
        }
    }

    @Test
    void oneBatchReScoresOneCache() {
        List<KvFidelity.Request> mixed = List.of(new KvFidelity.Request(doc(0, 0, 50), doc(0, 50, 3), KITTY),
                new KvFidelity.Request(doc(1, 0, 50), doc(1, 50, 3), KvSettings.parse("kivi")));
        assertThrows(IllegalArgumentException.class, () -> KvFidelity.measureAll(backend, mixed));
    }

    @Test
    void aGenerationKeepsTheQuantizedPassLogitsAndReScoringThemChangesNothing() throws Exception {
        SamplingParams sampled = new SamplingParams(12, 0.9, 0, 0.95, 7, List.of());
        List<int[]> prompts = List.of(doc(7, 0, 260), doc(8, 0, 190), doc(9, 0, 330));
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            // The middle one keeps nothing: only what asks for it is kept.
            futures.add(engine.submit(new GenerationRequest("r" + i, prompts.get(i), sampled, KITTY, i != 1)));
        }
        int vocab = backend.config().vocabSize();
        for (int i = 0; i < prompts.size(); i++) {
            GenerationResult r = futures.get(i).get();
            assertEquals(12, r.tokens().length);
            if (i == 1) {
                assertNull(r.logits());
                continue;
            }
            assertNotNull(r.logits(), "its prompt went through in one step, on a batch-invariant backend");
            float[] teacherForced = TeacherForcing.decodeLogits(backend, KITTY, List.of(concat(prompts.get(i), r.tokens())),
                    List.of(prompts.get(i).length)).get(0);
            assertArrayEquals(teacherForced, r.logits(), "request " + i + ": the generation's logits are the quantized pass, bit for bit");
            assertEquals(r.tokens().length * vocab, r.logits().length);
            KvFidelity.Result reused = engine.fidelityAsync(prompts.get(i), r, KITTY).get();
            assertEquals(engine.fidelity(prompts.get(i), r.tokens(), KITTY), reused);
        }
    }

    @Test
    void aPromptFedInSeveralStepsKeepsNoLogits() throws Exception {
        EngineOptions small = EngineOptions.cpu(TestData.demoModel());
        small = new EngineOptions(small.modelDir(), small.device(), 2, 4, 0, 64, small.cuda());
        try (GenerationEngine chunked = GenerationEngine.open(small)) {
            GenerationResult r = chunked.submit(new GenerationRequest("long", doc(10, 0, 150), SamplingParams.greedy(4),
                    KITTY, true)).get();
            assertEquals(4, r.tokens().length);
            assertNull(r.logits(), "a later chunk saw the earlier one's 2-bit pages, which one teacher-forced prefill does not");
        }
    }
}
