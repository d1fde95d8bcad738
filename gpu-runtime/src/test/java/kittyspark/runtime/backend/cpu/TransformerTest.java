package kittyspark.runtime.backend.cpu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;
import kittyspark.runtime.sampling.Sampler;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.TinyCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invariants of the forward pass, on random tiny Qwen3 and Llama 3.1 checkpoints. */
class TransformerTest {
    @TempDir
    static Path tmp;
    static CpuBackend qwen;
    static CpuBackend llama;
    static Path qwenDir;
    static Path llamaDir;
    static final KvSettings FP = KvSettings.parse("fp16");

    @BeforeAll
    static void load() throws Exception {
        qwenDir = TinyCheckpoint.write(tmp.resolve("qwen"), true, 7);
        llamaDir = TinyCheckpoint.write(tmp.resolve("llama"), false, 8);
        qwen = new CpuBackend(Checkpoint.open(qwenDir), 2);
        llama = new CpuBackend(Checkpoint.open(llamaDir), 2);
    }

    @AfterAll
    static void close() {
        qwen.close();
        llama.close();
    }

    private static CpuBackend backend(boolean q) {
        return q ? qwen : llama;
    }

    private static int[] tokens(int n, int seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = (i * 31 + seed * 17) % TinyCheckpoint.VOCAB;
        }
        return t;
    }

    @ParameterizedTest(name = "qwen3={0}")
    @ValueSource(booleans = {true, false})
    void decodingTokenByTokenMatchesOnePrefill(boolean q) {
        CpuBackend b = backend(q);
        int[] toks = tokens(40, 1);
        int vocab = b.config().vocabSize();
        float[] all = b.forward(List.of(new ForwardInput(b.newSequence(FP), toks, true))).get(0);
        SequenceState s = b.newSequence(FP);
        for (int i = 0; i < toks.length; i++) {
            float[] one = b.forward(List.of(new ForwardInput(s, new int[] {toks[i]}, false))).get(0);
            for (int v = 0; v < vocab; v++) {
                assertEquals(all[i * vocab + v], one[v], 1e-4f, "position " + i + " token " + v);
            }
        }
    }

    @ParameterizedTest(name = "qwen3={0}")
    @ValueSource(booleans = {true, false})
    void aSequenceGetsBitIdenticalLogitsWhateverItsBatchNeighbours(boolean q) {
        CpuBackend b = backend(q);
        int[] mine = tokens(23, 2);
        float[] alone = b.forward(List.of(new ForwardInput(b.newSequence(FP), mine, false))).get(0);
        List<ForwardInput> batch = new ArrayList<>();
        batch.add(new ForwardInput(b.newSequence(FP), tokens(50, 3), true));
        batch.add(new ForwardInput(b.newSequence(FP), mine, false));
        batch.add(new ForwardInput(b.newSequence(FP), tokens(5, 4), false));
        float[] together = b.forward(batch).get(1);
        assertArrayEquals(alone, together);
    }

    @ParameterizedTest(name = "qwen3={0}")
    @ValueSource(booleans = {true, false})
    void chunkedPrefillMatchesOnePrefill(boolean q) {
        CpuBackend b = backend(q);
        int[] toks = tokens(30, 5);
        float[] whole = b.forward(List.of(new ForwardInput(b.newSequence(FP), toks, false))).get(0);
        SequenceState s = b.newSequence(FP);
        b.forward(List.of(new ForwardInput(s, java.util.Arrays.copyOf(toks, 17), false)));
        float[] chunked = b.forward(List.of(new ForwardInput(s, java.util.Arrays.copyOfRange(toks, 17, 30), false))).get(0);
        assertArrayEquals(whole, chunked, 1e-4f);
        assertEquals(30, s.length());
    }

    @ParameterizedTest(name = "qwen3={0}")
    @ValueSource(booleans = {true, false})
    void vectorAndScalarKernelsGiveBitIdenticalLogits(boolean q) {
        CpuBackend b = backend(q);
        assertTrue(b.kernels().name().startsWith("vector-"), "these tests run the SIMD kernels: " + b.kernels().name());
        int[] toks = tokens(40, 6);
        try (CpuBackend s = new CpuBackend(Checkpoint.open(q ? qwenDir : llamaDir), 2, CpuKernels.select("scalar"))) {
            for (CpuBackend x : List.of(b, s)) {
                assertEquals(x == b, x.kernels().name().startsWith("vector-"));
            }
            assertArrayEquals(prefillThenDecode(s, toks), prefillThenDecode(b, toks));
        }
    }

    @org.junit.jupiter.api.Test
    void tokensSampledOnTheBackendsThreadsAreThoseOfOneThreadSamplingInTurn() {
        CpuBackend b = qwen;
        int batch = 9;
        List<ForwardInput> in = new ArrayList<>();
        List<ForwardInput> again = new ArrayList<>();
        List<kittyspark.runtime.backend.SampleSpec> specs = new ArrayList<>();
        List<kittyspark.runtime.sampling.Sampler> mine = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            int[] t = tokens(7 + i, 20 + i);
            in.add(new ForwardInput(b.newSequence(FP), t, false));
            again.add(new ForwardInput(b.newSequence(FP), t, false));
            kittyspark.runtime.sampling.SamplingParams p = new kittyspark.runtime.sampling.SamplingParams(4, 1.0, 0, 0.9, 100 + i, List.of());
            specs.add(new kittyspark.runtime.backend.SampleSpec(p, 0, new kittyspark.runtime.sampling.Sampler(p)));
            mine.add(new kittyspark.runtime.sampling.Sampler(p));
        }
        List<kittyspark.runtime.backend.SampledToken> picked = b.forwardAndSample(in, specs);
        List<float[]> logits = b.forward(again);
        int vocab = b.config().vocabSize();
        for (int i = 0; i < batch; i++) {
            int expected = mine.get(i).next(logits.get(i), 0, vocab);
            assertEquals(expected, picked.get(i).token(), "input " + i);
            assertEquals(kittyspark.runtime.sampling.LogitMath.logProb(logits.get(i), 0, vocab, expected), picked.get(i).logprob(), 0.0);
        }
    }

    /** All logits of a 39-token prefill followed by the logits of one decode step. */
    private static float[] prefillThenDecode(CpuBackend b, int[] toks) {
        SequenceState seq = b.newSequence(FP);
        float[] prefill = b.forward(List.of(new ForwardInput(seq, java.util.Arrays.copyOf(toks, toks.length - 1), true))).get(0);
        float[] decode = b.forward(List.of(new ForwardInput(seq, new int[] {toks[toks.length - 1]}, false))).get(0);
        float[] both = java.util.Arrays.copyOf(prefill, prefill.length + decode.length);
        System.arraycopy(decode, 0, both, prefill.length, decode.length);
        return both;
    }
}
