package kittyspark.pipeline;

import java.io.Serializable;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * Rows and tokens done by a run's tasks, counted per row as it finishes. Spark sends running
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

    /** One output row, with the tokens its prompt and completion had (0 when none). */
    public void row(Integer promptTokens, Integer generatedTokens) {
        rows.add(1);
        if (promptTokens != null) {
            this.promptTokens.add(promptTokens);
        }
        if (generatedTokens != null) {
            this.generatedTokens.add(generatedTokens);
        }
    }
}
