package kittyspark.runtime.engine;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FidelityQueueTest {
    @Test
    void batchesAreCutAtTheRowAndTokenLimitsInOrder() {
        List<Integer> tokens = List.of(10, 10, 10, 50, 10, 200, 10);
        List<List<Integer>> cut = FidelityQueue.cut(tokens, t -> t, 2, 60);
        assertEquals(List.of(List.of(10, 10), List.of(10, 50), List.of(10), List.of(200), List.of(10)), cut);
        assertEquals(List.of(List.of(10, 10, 10, 50, 10, 200, 10)), FidelityQueue.cut(tokens, t -> t, 10, 1000));
        assertEquals(List.of(), FidelityQueue.cut(List.<Integer>of(), t -> t, 2, 60));
    }

    private static KvFidelity.Request request(int promptTokens) {
        return new KvFidelity.Request(new int[promptTokens], new int[] {1, 2}, KvSettings.parse("kitty"));
    }

    @Test
    void requestsWaitForABatchWhileTheEngineGeneratesButNotLongerThanItsStepLimit() {
        FidelityQueue q = new FidelityQueue(3, 1_000, 4);
        assertFalse(q.due(true), "nothing queued");
        q.add(request(10));
        assertTrue(q.due(true), "an idle engine measures at once");
        for (int step = 0; step < 3; step++) {
            assertFalse(q.due(false), "waits for others while the engine generates (step " + step + ")");
            q.stepped();
        }
        q.stepped();
        assertTrue(q.due(false), "the oldest waited the limit");
    }

    @Test
    void aFullBatchIsDueAtOnce() {
        FidelityQueue byRows = new FidelityQueue(3, 1_000, 100);
        byRows.add(request(10));
        byRows.add(request(10));
        assertFalse(byRows.due(false));
        byRows.add(request(10));
        assertTrue(byRows.due(false), "three rows fill the batch");
        FidelityQueue byTokens = new FidelityQueue(30, 1_000, 100);
        byTokens.add(request(300));
        assertFalse(byTokens.due(false));
        byTokens.add(request(300));
        assertTrue(byTokens.due(false), "two requests, each two passes of 302 tokens, pass 1,000");
    }

    @Test
    void aRequestThatCannotBeMeasuredFailsAloneAndItsBatchNeighboursGetTheirResults() throws Exception {
        KvSettings kitty = KvSettings.parse("kitty");
        int[] doc = TestData.refDocs().get(0).tokenIds();
        try (CpuBackend backend = new CpuBackend(Checkpoint.open(TestData.demoModel()), 2)) {
            int vocab = backend.config().vocabSize();
            FidelityQueue queue = new FidelityQueue(8, 100_000, 32);
            KvFidelity.Request good = new KvFidelity.Request(Arrays.copyOf(doc, 120), Arrays.copyOfRange(doc, 120, 128), kitty);
            KvFidelity.Request bad = new KvFidelity.Request(Arrays.copyOf(doc, 90), new int[] {vocab + 5, 3}, kitty);
            KvFidelity.Request other = new KvFidelity.Request(Arrays.copyOf(doc, 60), Arrays.copyOfRange(doc, 60, 65), kitty);
            CompletableFuture<KvFidelity.Result> g = queue.add(good);
            CompletableFuture<KvFidelity.Result> b = queue.add(bad);
            CompletableFuture<KvFidelity.Result> o = queue.add(other);
            queue.stepped();
            queue.runQueued(backend);
            assertTrue(queue.isEmpty());
            assertFalse(queue.due(true));
            assertEquals(KvFidelity.measure(backend, good.prompt(), good.completion(), kitty), g.get());
            assertEquals(KvFidelity.measure(backend, other.prompt(), other.completion(), kitty), o.get());
            ExecutionException e = assertThrows(ExecutionException.class, b::get);
            assertTrue(e.getCause().getMessage().contains("outside the vocabulary"), e.getCause().getMessage());
        }
    }
}
