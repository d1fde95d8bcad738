package kittyspark.pipeline.plan;

import kittyspark.pipeline.ColumnNames;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.output.OutputSchema;
import kittyspark.pipeline.output.OutputStore;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Decides, on the driver, which input rows this run generates: numbers duplicate ids by
 * their order in the input, fingerprints every row, and drops rows whose current version is
 * already in the output (same fingerprint; and not an error when retrying errors).
 */
public final class RunPlanner {
    private RunPlanner() {
    }

    /**
     * @param todo        rows to generate: input columns, then the planning columns; persisted
     *                    (the caller unpersists it)
     * @param inputRows   rows in the input
     * @param inputSchema the input's own columns
     * @param columns     the names of the planning columns
     */
    public record Plan(Dataset<Row> todo, long inputRows, long todoRows, StructType inputSchema, PlanColumns columns) {
        public long skippedRows() {
            return inputRows - todoRows;
        }
    }

    /**
     * The input with the planning columns: duplicate ids numbered by input order, a fingerprint
     * and a length estimate per row.
     *
     * @param rows        the input's columns, then the planning columns
     * @param columns     the names of the planning columns
     * @param inputSchema the input's own columns
     */
    public record Prepared(Dataset<Row> rows, PlanColumns columns, StructType inputSchema) {
    }

    /** Checks the input's schema and adds the planning columns. Shared by the run, the dry run and the DataFrame entry point. */
    public static Prepared prepare(Dataset<Row> input, PipelineConfig cfg, ModelIdentity model) {
        InputSchema schema = InputSchema.check(input.schema(), cfg.columns());
        PlanColumns cols = PlanColumns.freshFor(input.schema());
        String position = ColumnNames.fresh(input.schema().add(cols.occurrence(), DataTypes.IntegerType), "_kitty_position");
        // Input order decides which duplicate is "first"; the scan order of the same files is stable.
        Dataset<Row> numbered = input
                .withColumn(position, functions.monotonically_increasing_id())
                .withColumn(cols.occurrence(), functions.row_number().over(
                        Window.partitionBy(ColumnNames.col(cfg.columns().id())).orderBy(ColumnNames.col(position))))
                .drop(position);
        StructType planned = numbered.schema()
                .add(cols.fingerprint(), DataTypes.StringType, false)
                .add(cols.length(), DataTypes.IntegerType, false);
        Dataset<Row> fingerprinted = numbered.map(
                new Fingerprinter(cfg, model.fingerprintPart(), cols), Encoders.row(planned));
        return new Prepared(fingerprinted, cols, schema.schema());
    }

    /**
     * The output's current rows, under names apart from the planned rows' columns, and how a
     * planned row relates to them.
     *
     * @param rows            id, occurrence, fingerprint and error of each current output row
     * @param sameKey         the planned row and the output row are the same row (id and occurrence)
     * @param absent          (after a left join) no output row has the planned row's key
     * @param sameFingerprint the output row was made from exactly this row and configuration
     * @param current         the output row is kept: same fingerprint (and, when retrying errors, no error)
     */
    record Done(Dataset<Row> rows, Column sameKey, Column absent, Column sameFingerprint, Column current) {
    }

    static Done done(Dataset<Row> existing, Prepared planned, PipelineConfig cfg) {
        StructType names = planned.rows().schema();
        Dataset<Row> fingerprinted = planned.rows();
        PlanColumns cols = planned.columns();
        String id = cfg.columns().id();
        String doneId = ColumnNames.fresh(names, "_kitty_done_id");
        String doneOcc = ColumnNames.fresh(names, "_kitty_done_occurrence");
        String doneFp = ColumnNames.fresh(names, "_kitty_done_fingerprint");
        String doneError = ColumnNames.fresh(names, "_kitty_done_error");
        Dataset<Row> done = existing.select(
                ColumnNames.col(id).as(doneId),
                ColumnNames.col(OutputSchema.ID_OCCURRENCE).as(doneOcc),
                ColumnNames.col(OutputSchema.FINGERPRINT).as(doneFp),
                ColumnNames.col(OutputSchema.ERROR).as(doneError));
        Column sameKey = fingerprinted.col(ColumnNames.quoted(id)).eqNullSafe(done.col(doneId))
                .and(fingerprinted.col(ColumnNames.quoted(cols.occurrence())).equalTo(done.col(doneOcc)));
        Column sameFingerprint = done.col(doneFp).equalTo(fingerprinted.col(ColumnNames.quoted(cols.fingerprint())));
        Column current = cfg.run().retryErrors() ? sameFingerprint.and(done.col(doneError).isNull()) : sameFingerprint;
        return new Done(done, sameKey, done.col(doneFp).isNull(), sameFingerprint, current);
    }

    public static Plan plan(Dataset<Row> input, PipelineConfig cfg, ModelIdentity model, OutputStore output) {
        Prepared prepared = prepare(input, cfg, model);
        Dataset<Row> existing = output.latest();
        Dataset<Row> todo = prepared.rows();
        if (existing != null) {
            Done done = done(existing, prepared, cfg);
            todo = prepared.rows().join(done.rows(), done.sameKey().and(done.current()), "left_anti");
        }
        // Persisted before counting: the count fills the cache that the length dealing and the
        // generation then read, instead of computing every row's plan a second time.
        todo = todo.persist(StorageLevel.MEMORY_AND_DISK());
        long inputRows = input.count();
        long todoRows = todo.count();
        return new Plan(todo, inputRows, todoRows, prepared.inputSchema(), prepared.columns());
    }

    /** Adds the fingerprint and a length estimate (for balancing partitions) to each row. Never throws. */
    static final class Fingerprinter implements MapFunction<Row, Row> {
        private final PipelineConfig cfg;
        private final String model;
        private final PlanColumns cols;

        Fingerprinter(PipelineConfig cfg, String model, PlanColumns cols) {
            this.cfg = cfg;
            this.model = model;
            this.cols = cols;
        }

        @Override
        public Row call(Row row) {
            String fingerprint;
            int length = 0;
            try {
                int occurrence = row.getInt(row.fieldIndex(cols.occurrence()));
                PromptRow p = PromptRow.from(row, cfg.columns(), occurrence);
                fingerprint = RowPlan.of(p, cfg, model).fingerprint();
                length = p.prompt() == null ? 0 : p.prompt().length();
                if (p.messages() != null) {
                    length = p.messages().stream().mapToInt(m -> m.content() == null ? 0 : m.content().length()).sum();
                }
            } catch (RuntimeException e) {
                // Not expected (reading a row never throws), but a row must never fail the task:
                // the executor turns it into an error row under this fingerprint.
                fingerprint = "unreadable:" + StableHash.sha256Hex(RowValues.canonical(row));
            }
            Object[] values = new Object[row.size() + 2];
            for (int i = 0; i < row.size(); i++) {
                values[i] = row.get(i);
            }
            values[row.size()] = fingerprint;
            values[row.size() + 1] = length;
            return RowFactory.create(values);
        }
    }
}
