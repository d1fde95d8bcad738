package kittyspark.runtime.engine;

/**
 * What came of one request.
 *
 * @param id               the request's id
 * @param completion       the generated text (cut before a stop string); empty on error
 * @param tokens           the generated token ids (including a final EOS token, if any)
 * @param promptTokens     prompt length in tokens
 * @param finishReason     why it stopped
 * @param meanLogprob      mean log-probability of the generated tokens under the sampling
 *                         distribution's model (before temperature); NaN when none
 * @param queueNanos       from submission to admission
 * @param prefillNanos     the prompt's forward pass
 * @param decodeNanos      from the first decode step to the end
 * @param error            why the request failed, or null
 */
public record GenerationResult(String id, String completion, int[] tokens, int promptTokens,
                               FinishReason finishReason, double meanLogprob,
                               long queueNanos, long prefillNanos, long decodeNanos, String error) {

    public static GenerationResult failed(String id, int promptTokens, String error) {
        return new GenerationResult(id, "", new int[0], promptTokens, FinishReason.ERROR, Double.NaN, 0, 0, 0, error);
    }

    public int completionTokens() {
        return tokens.length;
    }
}
