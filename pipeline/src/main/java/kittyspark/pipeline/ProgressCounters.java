package kittyspark.pipeline;

import java.io.Serializable;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Rows and tokens done by a run's tasks: rows and generated tokens as each row finishes, prompt
 * tokens as each prompt is handed to the engine. Spark sends running
 * tasks' values to the driver with every executor heartbeat, so {@link DriverProgress} sees
 * them grow during a task, not only when it ends.
 */
public final class ProgressCounters implements Serializable {
    final LongAccumulator rows;
    final LongAccumulator promptTokens;
    final LongAccumulator generatedTokens;

    private ProgressCounters(LongAccumulator rows, LongAccumulator promptTokens, LongAccumulator generatedTokens) {
        this.rows = rows;
        this.promptTokens = promptTokens;
        this.generatedTokens = generatedTokens;
    }

    public static ProgressCounters register(SparkContext sc) {
        return new ProgressCounters(sc.longAccumulator("kitty rows done"), sc.longAccumulator("kitty prompt tokens"),
                sc.longAccumulator("kitty generated tokens"));
    }

    /** A prompt handed to the engine: counted at once, so a long prefill shows as work before its row finishes. */
    public void prompt(int tokens) {
        promptTokens.add(tokens);
    }

    /** One output row, with the tokens it generated (null when none). */
    public void row(Integer generatedTokens) {
        rows.add(1);
        if (generatedTokens != null) {
            this.generatedTokens.add(generatedTokens);
        }
    }
}
