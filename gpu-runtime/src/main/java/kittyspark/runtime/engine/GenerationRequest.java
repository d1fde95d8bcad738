package kittyspark.runtime.engine;

import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;

/**
 * One prompt to complete. The prompt is given as token ids (the caller tokenizes, so that
 * chat templates and truncation stay outside the engine).
 *
 * @param id      the caller's key, echoed in the result
 * @param prompt  token ids, at least one
 * @param params  sampling parameters
 * @param kv      the KV-cache mode for this sequence
 * @param keepLogits the caller will re-score the completion ({@link GenerationEngine#fidelityAsync}):
 *                keep the logits each token was drawn from where they are those re-scoring would
 *                compute ({@link GenerationResult#logits})
 */
public record GenerationRequest(String id, int[] prompt, SamplingParams params, KvSettings kv, boolean keepLogits) {
    public GenerationRequest {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("prompt must have at least one token");
        }
    }

    public GenerationRequest(String id, int[] prompt, SamplingParams params, KvSettings kv) {
        this(id, prompt, params, kv, false);
    }
}
