package kittyspark.checks.bench;

import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.StepCapacity;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;

/** A backend lent to an engine that must not close it (a benchmark runs several engines on one model). */
final class SharedBackend implements Backend {
    private final Backend b;

    SharedBackend(Backend b) {
        this.b = b;
    }

    @Override
    public ModelConfig config() {
        return b.config();
    }

    @Override
    public String device() {
        return b.device();
    }

    @Override
    public SequenceState newSequence(KvSettings kv) {
        return b.newSequence(kv);
    }

    @Override
    public SequenceState newSequence(KvSettings kv, long worstCaseTokens) {
        return b.newSequence(kv, worstCaseTokens);
    }

    @Override
    public List<float[]> forward(List<ForwardInput> batch) {
        return b.forward(batch);
    }

    @Override
    public List<SampledToken> forwardAndSample(List<ForwardInput> batch, List<SampleSpec> samples) {
        return b.forwardAndSample(batch, samples);
    }

    @Override
    public boolean admits(long worstCaseTokens) {
        return b.admits(worstCaseTokens);
    }

    @Override
    public boolean admits(KvSettings kv, long worstCaseTokens) {
        return b.admits(kv, worstCaseTokens);
    }

    @Override
    public StepCapacity newStep() {
        return b.newStep();
    }

    @Override
    public long maxSequences(KvSettings kv, long worstCaseTokens) {
        return b.maxSequences(kv, worstCaseTokens);
    }

    @Override
    public long kvPoolBytes(KvSettings kv) {
        return b.kvPoolBytes(kv);
    }

    @Override
    public long defaultKvBudgetBytes() {
        return b.defaultKvBudgetBytes();
    }

    @Override
    public String unsupported(KvSettings kv) {
        return b.unsupported(kv);
    }

    @Override
    public void close() {
        // the owner closes the backend
    }
}
