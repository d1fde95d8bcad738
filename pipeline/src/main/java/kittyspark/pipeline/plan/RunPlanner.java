package kittyspark.pipeline.plan;

import kittyspark.pipeline.InputException;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.output.OutputSchema;
import kittyspark.pipeline.output.OutputStore;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Decides, on the driver, which input rows this run generates: numbers duplicate ids by
 * their order in the input, fingerprints every row, and drops rows whose current version is
 * already in the output (same fingerprint; and not an error when retrying errors).
 */
public final class RunPlanner {
    /** Planning columns appended after the input's own columns. */
    public static final String OCCURRENCE = "_kitty_occurrence";
    public static final String FINGERPRINT = "_kitty_fingerprint";
    public static final String LENGTH = "_kitty_length";
    private static final String POSITION = "_kitty_position";

    private RunPlanner() {
    }

    /**
     * @param todo        rows to generate: input columns, then the planning columns
     * @param inputRows   rows in the input
     * @param inputSchema the input's own columns
     */
    public record Plan(Dataset<Row> todo, long inputRows, long todoRows, StructType inputSchema) {
        public long skippedRows() {
            return inputRows - todoRows;
        }
    }

    public static Dataset<Row> readInput(SparkSession spark, String input) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(input);
            if (!p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p)) {
                throw new InputException("input " + input + " does not exist; give a Parquet file or directory with --input");
            }
        } catch (java.io.IOException e) {
            throw new InputException("cannot open input " + input + ": " + e.getMessage(), e);
        }
        try {
            return spark.read().parquet(input);
        } catch (RuntimeException e) {
            throw new InputException("input " + input + " is not readable as Parquet: " + e.getMessage(), e);
        }
    }

    /**
     * The input with the planning columns: duplicate ids numbered by input order, a fingerprint
     * and a length estimate per row. Checks the input's schema first.
     */
    public static Dataset<Row> prepare(Dataset<Row> input, PipelineConfig cfg, ModelIdentity model) {
        InputSchema.check(input.schema(), cfg.columns());
        // Input order decides which duplicate is "first"; the scan order of the same files is stable.
        Dataset<Row> numbered = input
                .withColumn(POSITION, functions.monotonically_increasing_id())
                .withColumn(OCCURRENCE, functions.row_number().over(
                        Window.partitionBy(functions.col(cfg.columns().id())).orderBy(functions.col(POSITION))))
                .drop(POSITION);
        StructType planned = numbered.schema()
                .add(FINGERPRINT, DataTypes.StringType, false)
                .add(LENGTH, DataTypes.IntegerType, false);
        return numbered.map(new Fingerprinter(cfg, model.fingerprintPart()), Encoders.row(planned));
    }

    /** The output's current rows as the planner compares them: id, occurrence, fingerprint, error. */
    static Dataset<Row> done(Dataset<Row> existing, PipelineConfig cfg) {
        return existing.select(
                functions.col(cfg.columns().id()).as("_done_id"),
                functions.col(OutputSchema.ID_OCCURRENCE).as("_done_occ"),
                functions.col(OutputSchema.FINGERPRINT).as("_done_fp"),
                functions.col(OutputSchema.ERROR).as("_done_error"));
    }

    /** The same row (id and occurrence) in the planned input and in the output. */
    static Column sameKey(Dataset<Row> planned, Dataset<Row> done, PipelineConfig cfg) {
        return planned.col(cfg.columns().id()).eqNullSafe(done.col("_done_id"))
                .and(planned.col(OCCURRENCE).equalTo(done.col("_done_occ")));
    }

    /** An output row that this run keeps: same fingerprint (and, when retrying errors, no error). */
    static Column current(Dataset<Row> planned, Dataset<Row> done, PipelineConfig cfg) {
        Column current = done.col("_done_fp").equalTo(planned.col(FINGERPRINT));
        return cfg.run().retryErrors() ? current.and(done.col("_done_error").isNull()) : current;
    }

    public static Plan plan(Dataset<Row> input, PipelineConfig cfg, ModelIdentity model, OutputStore output) {
        InputSchema schema = InputSchema.check(input.schema(), cfg.columns());
        Dataset<Row> fingerprinted = prepare(input, cfg, model);
        Dataset<Row> existing = output.latest();
        Dataset<Row> todo = fingerprinted;
        if (existing != null) {
            Dataset<Row> done = done(existing, cfg);
            todo = fingerprinted.join(done, sameKey(fingerprinted, done, cfg).and(current(fingerprinted, done, cfg)),
                    "left_anti");
        }
        long inputRows = input.count();
        long todoRows = todo.count();
        return new Plan(todo, inputRows, todoRows, schema.schema());
    }

    /** Adds the fingerprint and a length estimate (for balancing partitions) to each row. */
    static final class Fingerprinter implements MapFunction<Row, Row> {
        private final PipelineConfig cfg;
        private final String model;

        Fingerprinter(PipelineConfig cfg, String model) {
            this.cfg = cfg;
            this.model = model;
        }

        @Override
        public Row call(Row row) {
            int occurrence = row.getInt(row.fieldIndex(OCCURRENCE));
            PromptRow p = PromptRow.from(row, cfg.columns(), occurrence);
            RowPlan plan = RowPlan.of(p, cfg, model);
            int length = p.prompt() == null ? 0 : p.prompt().length();
            if (p.messages() != null) {
                length = p.messages().stream().mapToInt(m -> m.content() == null ? 0 : m.content().length()).sum();
            }
            Object[] values = new Object[row.size() + 2];
            for (int i = 0; i < row.size(); i++) {
                values[i] = row.get(i);
            }
            values[row.size()] = plan.fingerprint();
            values[row.size() + 1] = length;
            return RowFactory.create(values);
        }
    }
}
