package kittyspark.runtime.backend;

import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;

/**
 * Where the transformer runs: the CPU reference or a CUDA device. The generation engine
 * (scheduling, sampling, stop rules) sits above this interface and is the same for both.
 */
public interface Backend extends AutoCloseable {

    ModelConfig config();

    /** "cpu", "cuda:0", ... */
    String device();

    /** A fresh, empty sequence whose KV cache uses {@code kv}. */
    SequenceState newSequence(KvSettings kv);

    /**
     * Runs one batched forward step. Each input's tokens continue its sequence.
     *
     * @return per input, row-major logits {@code [input.logitRows()][vocabSize]}
     */
    List<float[]> forward(List<ForwardInput> batch);

    /**
     * A forward step that also picks the next token of the inputs that want one:
     * {@code samples.get(i)} is null for an input whose logits are not needed (a prompt chunk
     * with more to come). The default samples on the host from {@link #forward}; a device
     * backend samples where the logits are, so only token ids and log-probabilities cross.
     *
     * @return per input, the picked token, or null where no sample was asked for
     */
    /**
     * Whether a sequence's logits are bit-identical whatever else shares its step (and however
     * many rows that is). Only then are the logits a generation's steps gave a sequence those of
     * feeding it alone, so the engine reuses them instead of re-scoring (see {@code KvFidelity}).
     */
    default boolean batchInvariant() {
        return false;
    }

    default List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> samples) {
        List<float[]> logits = forward(batch);
        int vocab = config().vocabSize();
        List<SampledToken> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            SampleSpec s = samples.get(i);
            if (s == null) {
                out.add(null);
                continue;
            }
            float[] row = logits.get(i);
            int token = s.hostSampler().next(row, 0, vocab);
            out.add(new SampledToken(token, LogitMath.logProb(row, 0, vocab, token), s.keepLogits() ? row : null));
        }
        return out;
    }

    /**
     * Room of a new step, for the scheduler to fill; {@link #forwardAndSample} takes any step
     * built within it as one step. By default a step has no limits.
     */
    default StepCapacity newStep() {
        return StepCapacity.unlimited();
    }

    /**
     * Whether a new sequence that may grow to {@code worstCaseTokens} tokens fits next to the
     * ones admitted so far. The CPU backend has no fixed pool (the engine's byte budget rules).
     */
    default boolean admits(long worstCaseTokens) {
        return true;
    }

    /**
     * Whether a new sequence of cache mode {@code kv} that may grow to {@code worstCaseTokens}
     * fits: a backend whose pools depend on the mode (quantized pages) counts that mode's exact
     * bytes; by default the mode does not matter.
     */
    default boolean admits(KvSettings kv, long worstCaseTokens) {
        return admits(worstCaseTokens);
    }

    /**
     * Most sequences of mode {@code kv}, each growing to {@code worstCaseTokens}, that the
     * backend's pools hold at once; a backend without a fixed pool has no such limit.
     */
    default long maxSequences(KvSettings kv, long worstCaseTokens) {
        return Long.MAX_VALUE;
    }

    /** Bytes of the KV pool that holds mode {@code kv}; 0 for a backend without a fixed pool. */
    default long kvPoolBytes(KvSettings kv) {
        return 0;
    }

    /**
     * The KV byte budget the engine's admission uses when its options set none (0: none, the
     * pools alone limit admission).
     */
    default long defaultKvBudgetBytes() {
        return 0;
    }

    /** A fresh sequence that reserves room for {@code worstCaseTokens} tokens where the backend has a fixed pool. */
    default SequenceState newSequence(KvSettings kv, long worstCaseTokens) {
        return newSequence(kv);
    }

    /** Why this backend cannot hold a cache of {@code kv}, or null when it can. */
    default String unsupported(KvSettings kv) {
        return null;
    }

    @Override
    void close();
}
