package kittyspark.runtime.eval;

/**
 * Teacher-forced scores of one document, with the meaning of the Hugging Face reference file:
 * {@code nextLogprob[i]} is log p(token[i+1] | token[0..i]) and {@code argmax[i]} the most
 * likely token after position i (so it has one more entry).
 */
public record DocumentScore(String id, int[] tokenIds, double nllMean, double[] nextLogprob, int[] argmax) {
    public int nTokens() {
        return tokenIds.length;
    }
}
