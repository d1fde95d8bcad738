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
 * @param logits           row-major {@code [tokens.length][vocab]}: the logits each token was drawn
 *                         from, when the request asked to keep them and they are exactly what
 *                         teacher-forced re-scoring would compute (its prompt went through in one
 *                         step, on a {@link kittyspark.runtime.backend.Backend#batchInvariant} backend); else null
 */
public record GenerationResult(String id, String completion, int[] tokens, int promptTokens,
                               FinishReason finishReason, double meanLogprob,
                               long queueNanos, long prefillNanos, long decodeNanos, String error, float[] logits) {

    public GenerationResult(String id, String completion, int[] tokens, int promptTokens, FinishReason finishReason,
                            double meanLogprob, long queueNanos, long prefillNanos, long decodeNanos, String error) {
        this(id, completion, tokens, promptTokens, finishReason, meanLogprob, queueNanos, prefillNanos, decodeNanos, error, null);
    }

    public static GenerationResult failed(String id, int promptTokens, String error) {
        return new GenerationResult(id, "", new int[0], promptTokens, FinishReason.ERROR, Double.NaN, 0, 0, 0, error);
    }

    public int completionTokens() {
        return tokens.length;
    }
}
