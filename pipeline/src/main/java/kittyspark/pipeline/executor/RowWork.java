package kittyspark.pipeline.executor;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

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

    /** A row for {@code request}, handed to the engine by {@code submit}, its output made by {@code output}. */
    static <O> RowWork<O> of(GenerationRequest request,
                             Function<GenerationRequest, CompletableFuture<GenerationResult>> submit,
                             Function<CompletableFuture<GenerationResult>, O> output) {
        return new RowWork<>() {
            @Override
            public GenerationRequest request() {
                return request;
            }

            @Override
            public CompletableFuture<GenerationResult> submit() {
                return submit.apply(request);
            }

            @Override
            public O output(CompletableFuture<GenerationResult> result) {
                return output.apply(result);
            }
        };
    }

    /** A row whose output is known without the engine (it has no request). */
    static <O> RowWork<O> done(Supplier<O> output) {
        return new RowWork<>() {
            @Override
            public GenerationRequest request() {
                return null;
            }

            @Override
            public CompletableFuture<GenerationResult> submit() {
                throw new IllegalStateException("a finished row has no request");
            }

            @Override
            public O output(CompletableFuture<GenerationResult> result) {
                return output.get();
            }
        };
    }
}
