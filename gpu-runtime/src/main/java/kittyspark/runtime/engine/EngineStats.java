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
 * @param waitingRequests   requests queued, not yet admitted
 * @param admissibleBatch   sequences admission would let run at once for the shape of the latest step's
 *                          sequences (batch size, KV budget and pools; {@link GenerationEngine#capacity})
 * @param kvPoolBytes       KV bytes admission may fill: the byte budget, or the backend's pool where smaller
 * @param steps             forward steps run (prefill, decode or both)
 * @param underfullSteps    steps whose running batch was below 90% of the admissible batch of that moment
 * @param busyNanos         time with a step running
 * @param idleNanos         time since the first request without a step running
 */
public record EngineStats(long requestsDone, long promptTokens, long generatedTokens, int activeSequences,
                          int maxConcurrent, long decodeSteps, long decodeRowsTotal,
                          long kvBytesInUse, long kvBytesPeak, int waitingRequests, int admissibleBatch,
                          long kvPoolBytes, long steps, long underfullSteps, long busyNanos, long idleNanos) {
    /** A step is full when its batch is at least this share of the admissible batch. */
    public static final double FULL_BATCH_SHARE = 0.9;

    public double meanDecodeBatch() {
        return decodeSteps == 0 ? 0.0 : (double) decodeRowsTotal / decodeSteps;
    }

    /** Share of steps that ran at least {@link #FULL_BATCH_SHARE} of the admissible batch (NaN before the first step). */
    public double fullBatchFraction() {
        return steps == 0 ? Double.NaN : 1.0 - (double) underfullSteps / steps;
    }

    /** Share of the time since the first request with a step running (NaN before the first request). */
    public double busyFraction() {
        long all = busyNanos + idleNanos;
        return all == 0 ? Double.NaN : (double) busyNanos / all;
    }

    /** Whether a step of {@code batch} sequences is below the full share of {@code admissible}. */
    public static boolean underfull(int batch, int admissible) {
        return batch < FULL_BATCH_SHARE * admissible;
    }
}
