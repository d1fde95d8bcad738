package kittyspark.runtime.backend;

/** A token picked for a sequence and its log-probability under the unmodified distribution (log softmax of the raw logits). */
public record SampledToken(int token, double logprob) {
}
