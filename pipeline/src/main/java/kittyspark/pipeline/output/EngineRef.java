package kittyspark.pipeline.output;

import java.io.Serializable;

import org.apache.spark.sql.Row;

/** Which engine served a row: the output's {@code engine} column. */
public record EngineRef(String executorId, String gpu, String device, String instance) implements Serializable {

    /** The value of the {@code engine} column. */
    public Row toRow() {
        return OutputRow.of(OutputSchema.ENGINE_TYPE)
                .set(OutputSchema.ENGINE_EXECUTOR_ID, executorId)
                .set(OutputSchema.ENGINE_GPU, gpu)
                .set(OutputSchema.ENGINE_DEVICE, device)
                .set(OutputSchema.ENGINE_INSTANCE, instance)
                .toRow();
    }
}
