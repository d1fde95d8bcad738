package kittyspark.pipeline.executor;

import java.util.concurrent.CompletableFuture;

import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;

/**
 * One input row made ready for the engine: its request, or its output already (a row that
 * cannot be generated becomes its error row without the engine).
 *
 * @param <O> the output row
 */
public interface RowWork<O> {
    /** The engine request, or null when {@link #output} is already known. */
    GenerationRequest request();

    /** Hands the request to the engine; never throws (a refusal completes the future with it). */
    CompletableFuture<GenerationResult> submit();

    /** The output row: {@code result} is the completed future {@link #submit} returned, or null without a request. */
    O output(CompletableFuture<GenerationResult> result);
}
