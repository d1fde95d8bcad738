package kittyspark.runtime.backend.cpu;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.eval.HfReference;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.Sampler;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo model's greedy continuations of held-out prompts (the Hugging Face reference's
 * 48-token greedy task) are the same tokens with the SIMD kernels as with the scalar ones, over
 * the full-precision cache and over the 2-bit Kitty pages (whose quantizer sees the same keys).
 */
class KernelSetsGreedyTest {
    /** Documents checked (every greedy prompt of the reference is 512 tokens; two keep CI short). */
    static final int DOCS = 2;
    static CpuBackend vector;
    static CpuBackend scalar;

    @BeforeAll
    static void load() {
        vector = new CpuBackend(Checkpoint.open(TestData.demoModel()), 2, CpuKernels.select("vector"));
        scalar = new CpuBackend(Checkpoint.open(TestData.demoModel()), 2, CpuKernels.select("scalar"));
    }

    @AfterAll
    static void close() {
        vector.close();
        scalar.close();
    }

    @ParameterizedTest(name = "kv {0}")
    @ValueSource(strings = {"fp16", "kitty"})
    void vectorAndScalarKernelsGreedilyContinueHeldOutPromptsAlike(String kvMode) {
        KvSettings kv = KvSettings.parse(kvMode);
        List<HfReference.Doc> docs = TestData.refDocs().stream().filter(d -> d.greedy().length > 0)
                .sorted(Comparator.comparingInt(HfReference.Doc::greedyPromptLen)).limit(DOCS).toList();
        assertEquals(DOCS, docs.size(), "the reference has greedy continuations");
        for (HfReference.Doc d : docs) {
            int[] prompt = Arrays.copyOf(d.tokenIds(), d.greedyPromptLen());
            int n = d.greedy().length;
            int[] bySimd = greedy(vector, prompt, n, kv);
            assertEquals(n, bySimd.length);
            assertTrue(Arrays.stream(bySimd).distinct().count() > 1, d.id() + ": a real continuation, not one token repeated");
            assertArrayEquals(greedy(scalar, prompt, n, kv), bySimd, d.id());
        }
    }

    /** Prefill the prompt, then n greedy steps, one token fed back at a time. */
    private static int[] greedy(CpuBackend b, int[] prompt, int n, KvSettings kv) {
        SamplingParams p = SamplingParams.greedy(n);
        Sampler sampler = new Sampler(p);
        SequenceState seq = b.newSequence(kv);
        int[] out = new int[n];
        int[] feed = prompt;
        for (int i = 0; i < n; i++) {
            out[i] = b.forwardAndSample(List.of(new ForwardInput(seq, feed, false)),
                    List.of(new SampleSpec(p, i, sampler))).get(0).token();
            feed = new int[] {out[i]};
        }
        seq.release();
        return out;
    }
}
