package kittyspark.runtime.backend;

/**
 * One sequence's share of a batched forward step: feed {@code tokens} (appending them to the
 * sequence's KV cache) and return logits for every fed position or only the last one.
 */
public record ForwardInput(SequenceState sequence, int[] tokens, boolean allLogits) {
    public ForwardInput {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a forward step needs at least one token");
        }
    }

    public int logitRows() {
        return allLogits ? tokens.length : 1;
    }
}
