package kittyspark.runtime.testing;

import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;

/**
 * A test backend whose model runs on a CPU backend it does not own; a fake overrides only what
 * it scripts (admission, step capacity, timing) and the rest is the real model.
 */
public abstract class CpuBackedFake implements Backend {
    private final Backend cpu;
    private final String device;

    protected CpuBackedFake(Backend cpu, String device) {
        this.cpu = cpu;
        this.device = device;
    }

    @Override
    public ModelConfig config() {
        return cpu.config();
    }

    @Override
    public String device() {
        return device;
    }

    @Override
    public SequenceState newSequence(KvSettings kv) {
        return cpu.newSequence(kv);
    }

    @Override
    public List<float[]> forward(List<ForwardInput> batch) {
        return cpu.forward(batch);
    }

    /** The CPU backend belongs to the test. */
    @Override
    public void close() {
    }
}
