package kittyspark.pipeline.executor;

import java.io.Serializable;

import kittyspark.runtime.engine.EngineOptions;

/** Opens an engine in an executor. Serializable: the driver picks the factory, executors call it. */
@FunctionalInterface
public interface EngineFactory extends Serializable {
    GenerationService open(EngineOptions options);
}
