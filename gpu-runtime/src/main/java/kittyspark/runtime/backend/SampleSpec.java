package kittyspark.runtime.backend;

import kittyspark.runtime.sampling.Sampler;
import kittyspark.runtime.sampling.SamplingParams;

/**
 * How to pick the next token of one input of a step.
 *
 * @param params      the request's sampling parameters
 * @param tokenIndex  index of the token being picked (0 for the first generated token): a
 *                    device sampler keys its random stream by (seed, tokenIndex)
 * @param hostSampler the request's own host-side sampler, used by backends that sample on the
 *                    host (the CPU backend keeps its per-request stream this way)
 * @param keepLogits  return the logits row the token was drawn from ({@link SampledToken#logits});
 *                    a backend that samples on the device may ignore it
 */
public record SampleSpec(SamplingParams params, int tokenIndex, Sampler hostSampler, boolean keepLogits) {
    public SampleSpec(SamplingParams params, int tokenIndex, Sampler hostSampler) {
        this(params, tokenIndex, hostSampler, false);
    }
}
