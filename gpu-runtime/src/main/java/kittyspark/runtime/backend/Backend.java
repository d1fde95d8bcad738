package kittyspark.runtime.backend;

import java.util.List;

import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;

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

    @Override
    void close();
}
