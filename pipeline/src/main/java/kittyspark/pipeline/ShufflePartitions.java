package kittyspark.pipeline;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Sizes the run's shuffles (numbering duplicates, joining with the output, compaction) to the
 * input: never more shuffle partitions than the input has partitions, so planning a small
 * input is a few tasks instead of {@code spark.sql.shuffle.partitions} (200 unless set). The
 * session's setting is put back when the run ends.
 */
final class ShufflePartitions implements AutoCloseable {
    static final String KEY = "spark.sql.shuffle.partitions";

    private final SparkSession spark;
    private final String before;

    private ShufflePartitions(SparkSession spark, String before) {
        this.spark = spark;
        this.before = before;
    }

    static ShufflePartitions fitTo(SparkSession spark, Dataset<Row> input) {
        String before = spark.conf().get(KEY);
        int configured = Integer.parseInt(before.trim());
        int fitted = Math.max(1, Math.min(configured, input.rdd().getNumPartitions()));
        spark.conf().set(KEY, String.valueOf(fitted));
        return new ShufflePartitions(spark, before);
    }

    @Override
    public void close() {
        spark.conf().set(KEY, before);
    }
}
