package kittyspark.runtime.engine;

/**
 * A snapshot of an engine's counters since it started.
 *
 * @param requestsDone      requests finished (any reason)
 * @param promptTokens      prompt tokens prefilled
 * @param generatedTokens   tokens generated
 * @param activeSequences   sequences in flight now
 * @param maxConcurrent     most sequences in flight at once
 * @param decodeSteps       batched decode steps run
 * @param decodeRowsTotal   sum over decode steps of the batch size (mean batch = this / steps)
 * @param kvBytesInUse      KV bytes held now
 * @param kvBytesPeak       most KV bytes held at once
 */
public record EngineStats(long requestsDone, long promptTokens, long generatedTokens, int activeSequences,
                          int maxConcurrent, long decodeSteps, long decodeRowsTotal,
                          long kvBytesInUse, long kvBytesPeak) {
    public double meanDecodeBatch() {
        return decodeSteps == 0 ? 0.0 : (double) decodeRowsTotal / decodeSteps;
    }
}
