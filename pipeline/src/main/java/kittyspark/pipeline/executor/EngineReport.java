package kittyspark.pipeline.executor;

import java.io.Serializable;

import kittyspark.pipeline.output.EngineRef;
import kittyspark.runtime.engine.EngineStats;

/**
 * One engine's counters as seen at the end of a task of a run: sent to the driver through an
 * accumulator. {@code baseline} is the engine's counters when the run first used it, so the
 * driver reports this run's work even when the engine outlives runs (local mode).
 */
public record EngineReport(EngineRef engine, boolean createdInRun, long reportedAtNanos,
                           Counters baseline, Counters current, long peakHeapBytes) implements Serializable {

    /** A serializable copy of the runtime's EngineStats. */
    public record Counters(long requestsDone, long promptTokens, long generatedTokens, int maxConcurrent,
                           long decodeSteps, long decodeRowsTotal, long kvBytesPeak, long steps, long underfullSteps,
                           long busyNanos, long idleNanos, int admissibleBatch, long kvPoolBytes) implements Serializable {
        public static Counters of(EngineStats s) {
            return new Counters(s.requestsDone(), s.promptTokens(), s.generatedTokens(), s.maxConcurrent(),
                    s.decodeSteps(), s.decodeRowsTotal(), s.kvBytesPeak(), s.steps(), s.underfullSteps(), s.busyNanos(),
                    s.idleNanos(), s.admissibleBatch(), s.kvPoolBytes());
        }
    }
}
