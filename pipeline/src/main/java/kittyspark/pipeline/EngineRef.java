package kittyspark.pipeline;

import java.io.Serializable;

/** Which engine served a row: the output's {@code engine} column. */
public record EngineRef(String executorId, String gpu, String device, String instance) implements Serializable {
}
