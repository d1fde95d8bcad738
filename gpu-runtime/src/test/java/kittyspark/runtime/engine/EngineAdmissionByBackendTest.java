package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.backend.cuda.pages.PagePool;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.testing.TestData;
import kittyspark.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine admits by the backend's page pool (Backend.admits / newSequence with a worst
 * case), as the CUDA backend does: here the CPU backend runs the model and a real PagePool
 * does the book-keeping.
 */
class EngineAdmissionByBackendTest {
    private static final KvSettings FP = KvSettings.parse("fp16");

    /** The CPU model with a fixed page pool in front of it; records the most sequences open at once. */
    static final class PooledCpuBackend implements Backend {
        final CpuBackend cpu;
        final PagePool pool;
        int open;
        int maxOpen;

        PooledCpuBackend(CpuBackend cpu, int pages) {
            this.cpu = cpu;
            this.pool = new PagePool(pages, 16, 1);
        }

        @Override
        public ModelConfig config() {
            return cpu.config();
        }

        @Override
        public String device() {
            return "pooled-cpu";
        }

        @Override
        public SequenceState newSequence(KvSettings kv) {
            return newSequence(kv, 0);
        }

        @Override
        public synchronized SequenceState newSequence(KvSettings kv, long worstCaseTokens) {
            PagePool.Table table = pool.open(worstCaseTokens);
            SequenceState inner = cpu.newSequence(kv);
            open++;
            maxOpen = Math.max(maxOpen, open);
            return new PooledSequence(this, table, inner);
        }

        @Override
        public boolean admits(long worstCaseTokens) {
            return pool.fits(worstCaseTokens);
        }

        @Override
        public List<float[]> forward(List<ForwardInput> batch) {
            List<ForwardInput> inner = new ArrayList<>();
            for (ForwardInput in : batch) {
                inner.add(new ForwardInput(((PooledSequence) in.sequence()).inner, in.tokens(), in.allLogits()));
            }
            return cpu.forward(inner);
        }

        @Override
        public void close() {
            cpu.close();
        }
    }

    /** A CPU sequence holding its pages of the pool until released. */
    static final class PooledSequence implements SequenceState {
        private final PooledCpuBackend owner;
        private final PagePool.Table table;
        final SequenceState inner;
        private boolean released;

        PooledSequence(PooledCpuBackend owner, PagePool.Table table, SequenceState inner) {
            this.owner = owner;
            this.table = table;
            this.inner = inner;
        }

        @Override
        public int length() {
            return inner.length();
        }

        @Override
        public long kvBytes() {
            return inner.kvBytes();
        }

        @Override
        public void release() {
            synchronized (owner) {
                if (!released) {
                    released = true;
                    owner.open--;
                    table.release();
                    inner.release();
                }
            }
        }
    }

    private static GenerationEngine engine(PooledCpuBackend b) {
        Tokenizer tok = Tokenizer.load(TestData.demoModel().resolve("tokenizer.json"));
        return new GenerationEngine(b, tok, EngineOptions.cpu(TestData.demoModel()).withMaxBatch(8), "pooled", Set.of(-1));
    }

    private static int[] prompt(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = 100 + i;
        }
        return p;
    }

    @Test
    void sequencesWaitForPagesAndAllComplete() throws Exception {
        // 3 pages = 48 tokens: one request of 20 + 8 (2 pages) at a time.
        PooledCpuBackend b = new PooledCpuBackend(new CpuBackend(Checkpoint.open(TestData.demoModel()), 2), 3);
        try (GenerationEngine e = engine(b)) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(e.submit(new GenerationRequest("r" + i, prompt(20), SamplingParams.greedy(8), FP)));
            }
            for (CompletableFuture<GenerationResult> f : fs) {
                GenerationResult r = f.get();
                assertNull(r.error());
                assertEquals(8, r.tokens().length);
            }
        }
        assertEquals(1, b.maxOpen, "the pool holds one worst case at a time, whatever max batch allows");
        assertEquals(3, b.pool.availablePages(), "every page is back");
    }

    @Test
    void aRequestLargerThanTheWholePoolFailsAloneWithAClearError() throws Exception {
        PooledCpuBackend b = new PooledCpuBackend(new CpuBackend(Checkpoint.open(TestData.demoModel()), 2), 2);
        try (GenerationEngine e = engine(b)) {
            GenerationResult big = e.submit(new GenerationRequest("big", prompt(40), SamplingParams.greedy(8), FP)).get();
            GenerationResult ok = e.submit(new GenerationRequest("ok", prompt(10), SamplingParams.greedy(4), FP)).get();
            assertNotNull(big.error());
            assertTrue(big.error().contains("do not fit the KV page pool"), big.error());
            assertNull(ok.error());
            assertEquals(4, ok.tokens().length);
        }
    }
}
