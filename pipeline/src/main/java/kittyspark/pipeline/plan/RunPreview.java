package kittyspark.pipeline.plan;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import kittyspark.pipeline.ColumnNames;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.output.OutputStore;
import kittyspark.runtime.tokenizer.Tokenizer;
import kittyspark.runtime.tokenizer.TokenizerFiles;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * A dry run: what {@link GenerationPipeline#run} would generate, skip and regenerate, decided
 * by the same fingerprints, and about how many tokens that is. Reads the input and the output;
 * writes nothing (not even the clean-up of an interrupted run).
 *
 * @param newRows            rows not in the output yet
 * @param regenerateRows     rows in the output whose fingerprint changed (model, prompt, sampling, KV settings)
 * @param retryRows          error rows that --retry-errors redoes
 * @param skipRows           rows whose current version is in the output
 * @param promptTokens       estimated prompt tokens of the rows to generate
 * @param tokenSample        prompts tokenized to measure characters per token
 * @param maxGeneratedTokens the sum of the rows' resolved max_new_tokens: the most they can generate
 */
public record RunPreview(String output, long inputRows, long newRows, long regenerateRows, long retryRows, long skipRows,
                         long promptTokens, int tokenSample, long maxGeneratedTokens) {
    static final int TOKEN_SAMPLE = 64;
    private static final String CLASS = "_kitty_class";

    public long todoRows() {
        return newRows + regenerateRows + retryRows;
    }

    public static RunPreview of(SparkSession spark, Dataset<Row> input, PipelineConfig cfg, ModelIdentity model, OutputStore store) {
        RunPlanner.Prepared prepared = RunPlanner.prepare(input, cfg, model);
        Dataset<Row> planned = prepared.rows();
        String kindColumn = ColumnNames.fresh(planned.schema(), CLASS);
        Dataset<Row> existing = store.latest();
        Dataset<Row> classified;
        if (existing == null) {
            classified = planned.withColumn(kindColumn, functions.lit("new"));
        } else {
            RunPlanner.Done done = RunPlanner.done(existing, prepared, cfg);
            Column kind = functions.when(done.absent(), "new")
                    .when(done.current(), "skip")
                    .when(done.sameFingerprint(), "retry")
                    .otherwise("regenerate");
            classified = planned.join(done.rows(), done.sameKey(), "left").withColumn(kindColumn, kind)
                    .select(planned.col("*"), ColumnNames.col(kindColumn));
        }
        classified = classified.cache();
        try {
            long n = 0, fresh = 0, regen = 0, retry = 0, skip = 0;
            for (Row r : classified.groupBy(ColumnNames.col(kindColumn)).count().collectAsList()) {
                long c = r.getLong(1);
                n += c;
                switch (r.getString(0)) {
                    case "new" -> fresh = c;
                    case "regenerate" -> regen = c;
                    case "retry" -> retry = c;
                    default -> skip = c;
                }
            }
            Dataset<Row> todo = classified.where(ColumnNames.col(kindColumn).notEqual("skip"));
            Row chars = todo.agg(functions.sum(ColumnNames.col(prepared.columns().length()))).first();
            long totalChars = chars.isNullAt(0) ? 0 : chars.getLong(0);
            Row maxNewSum = todo.map(new MaxNewTokens(cfg, model.fingerprintPart(), prepared.columns()), Encoders.LONG())
                    .agg(functions.sum("value")).first();
            long maxNew = maxNewSum.isNullAt(0) ? 0 : maxNewSum.getLong(0);
            double[] perChar = tokensPerChar(cfg, todo);
            return new RunPreview(store.path(), n, fresh, regen, retry, skip, Math.round(totalChars * perChar[0]),
                    (int) perChar[1], maxNew);
        } finally {
            classified.unpersist();
        }
    }

    /** Tokens per character on a sample of the prompts to generate, and the sample size. */
    private static double[] tokensPerChar(PipelineConfig cfg, Dataset<Row> todo) {
        if (!List.of(todo.columns()).contains(cfg.columns().prompt())) {
            return new double[] {0.25, 0}; // messages only: a typical 4 characters per token
        }
        List<Row> sample = todo.where(ColumnNames.col(cfg.columns().prompt()).isNotNull())
                .select(ColumnNames.col(cfg.columns().prompt())).limit(TOKEN_SAMPLE).collectAsList();
        if (sample.isEmpty()) {
            return new double[] {0.25, 0};
        }
        Tokenizer tokenizer = Tokenizer.load(TokenizerFiles.tokenizerJson(Path.of(cfg.modelDir())));
        long chars = 0, tokens = 0;
        for (Row r : sample) {
            String p = r.getString(0);
            chars += p.length();
            tokens += tokenizer.encode(p).length;
        }
        return new double[] {chars == 0 ? 0.25 : (double) tokens / chars, sample.size()};
    }

    /** A row's resolved max_new_tokens (0 when it would be an error row), by the job's own resolution rule. */
    static final class MaxNewTokens implements MapFunction<Row, Long> {
        private final PipelineConfig cfg;
        private final String model;
        private final PlanColumns cols;

        MaxNewTokens(PipelineConfig cfg, String model, PlanColumns cols) {
            this.cfg = cfg;
            this.model = model;
            this.cols = cols;
        }

        @Override
        public Long call(Row row) {
            RowPlan plan = RowPlan.of(PromptRow.from(row, cfg.columns(), row.getInt(row.fieldIndex(cols.occurrence()))),
                    cfg, model);
            return plan.ok() ? (long) plan.params().maxNewTokens() : 0L;
        }
    }

    public String toText() {
        StringBuilder b = new StringBuilder("== kitty-spark generate --dry-run: nothing was generated or written ==\n");
        line(b, "output", output);
        line(b, "rows", String.format(Locale.ROOT, "%d input: %d to generate (%d new, %d to regenerate because their"
                        + " fingerprint changed, %d error rows to retry), %d skipped (already in the output)",
                inputRows, todoRows(), newRows, regenerateRows, retryRows, skipRows));
        line(b, "tokens", String.format(Locale.ROOT, "about %d prompt tokens (%s), at most %d generated (their max_new_tokens)",
                promptTokens, tokenSample > 0 ? "characters per token measured on " + tokenSample + " prompts"
                        : "at 4 characters per token", maxGeneratedTokens));
        return b.toString();
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "  %-16s %s%n", key, value));
    }
}
