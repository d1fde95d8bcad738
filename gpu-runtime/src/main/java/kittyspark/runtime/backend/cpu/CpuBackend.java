package kittyspark.runtime.backend.cpu;

import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.AttentionKernel;
import kittyspark.runtime.kv.KvCache;
import kittyspark.runtime.kv.KvCaches;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pure-Java backend: fp32 arithmetic on the mapped weights, on its own threads, with SIMD
 * kernels where the JVM has the Vector API (see {@link CpuKernels}).
 */
public final class CpuBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(CpuBackend.class);
    private final ModelConfig config;
    private final WorkerPool pool;
    private final CpuKernels kernels;
    private final AttentionKernel attention;
    private final Transformer transformer;

    /** With the kernels {@link CpuKernels#PROPERTY} names (default: vector where available). */
    public CpuBackend(Checkpoint checkpoint, int threads) {
        this(checkpoint, threads, CpuKernels.fromSystemProperty());
    }

    public CpuBackend(Checkpoint checkpoint, int threads, CpuKernels kernels) {
        this.config = checkpoint.config();
        this.pool = new WorkerPool(threads);
        this.kernels = kernels;
        this.attention = new PooledAttention(kernels.attention(), pool);
        this.transformer = new Transformer(ModelWeights.from(checkpoint, kernels), pool);
        LOG.info("cpu backend: {} kernels, {} threads", kernels.name(), pool.threads());
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public String device() {
        return "cpu";
    }

    /**
     * The CPU cache lives on the Java heap, which has no page pool: admission keeps the
     * sequences' worst-case KV bytes within half the heap, leaving the rest to weights and rows.
     */
    @Override
    public long defaultKvBudgetBytes() {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    public int threads() {
        return pool.threads();
    }

    public CpuKernels kernels() {
        return kernels;
    }

    @Override
    public SequenceState newSequence(KvSettings kv) {
        return new CpuSequence(KvCaches.create(kv, config.kvGeometry(), attention));
    }

    /** A sequence over a cache the caller made (e.g. one that records what it is given). */
    public SequenceState newSequence(KvCache cache) {
        return new CpuSequence(cache);
    }

    /** Each row's products and attention sum in a fixed order, whatever the batch (TransformerTest pins it). */
    @Override
    public boolean batchInvariant() {
        return true;
    }

    @Override
    public List<float[]> forward(List<ForwardInput> batch) {
        List<Transformer.Part> parts = new ArrayList<>(batch.size());
        for (ForwardInput in : batch) {
            if (!(in.sequence() instanceof CpuSequence s)) {
                throw new IllegalArgumentException("sequence was not made by this CPU backend");
            }
            parts.add(new Transformer.Part(s.cache, in.tokens(), in.allLogits()));
        }
        return List.of(transformer.forward(parts));
    }

    /**
     * As the default, but the inputs' tokens are picked on the backend's threads: sampling a
     * large vocabulary (sort, softmax in double) is a real share of a batched decode step, and
     * each input's sampler owns its random stream, so the picks do not depend on the split.
     */
    @Override
    public List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> samples) {
        List<float[]> logits = forward(batch);
        int vocab = config.vocabSize();
        SampledToken[] out = new SampledToken[batch.size()];
        pool.forRange(batch.size(), 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                SampleSpec s = samples.get(i);
                if (s != null) {
                    float[] row = logits.get(i);
                    int token = s.hostSampler().next(row, 0, vocab);
                    out[i] = new SampledToken(token, LogitMath.logProb(row, 0, vocab, token), s.keepLogits() ? row : null);
                }
            }
        });
        return java.util.Arrays.asList(out);
    }

    @Override
    public void close() {
        pool.close();
    }

    /** A sequence on the CPU is its KV cache. */
    static final class CpuSequence implements SequenceState {
        private final KvCache cache;
        private boolean released;

        CpuSequence(KvCache cache) {
            this.cache = cache;
        }

        public KvCache cache() {
            return cache;
        }

        @Override
        public int length() {
            return cache.length(0);
        }

        @Override
        public long kvBytes() {
            return released ? 0 : cache.storedBytes();
        }

        @Override
        public void release() {
            if (!released) {
                released = true;
                cache.release();
            }
        }
    }
}
