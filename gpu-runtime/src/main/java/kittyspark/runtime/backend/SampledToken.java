package kittyspark.runtime.backend;

/**
 * A token picked for a sequence and its log-probability under the unmodified distribution (log
 * softmax of the raw logits); {@code logits} is the row it was drawn from where the step's
 * {@link SampleSpec#keepLogits} asked for it and the backend gives it, else null.
 */
public record SampledToken(int token, double logprob, float[] logits) {
    public SampledToken(int token, double logprob) {
        this(token, logprob, null);
    }
}
