package kittyspark.jobs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import kittyspark.jobs.cli.KittyHome;
import kittyspark.jobs.generate.GenerateRun;
import kittyspark.jobs.generate.JobConfig;
import kittyspark.pipeline.GenerationPipeline;
import kittyspark.pipeline.PipelineConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Generation as a DataFrame function, for Spark users calling from their own code:
 * <pre>{@code
 * Dataset<Row> out = KittyGenerate.withJobConf(Path.of("conf/local.conf"))
 *         .set("kv.mode", "kitty").transform(spark.table("prompts"));
 * }</pre>
 * Same configuration as the generate job (a job config file and {@code --set} keys), same
 * output columns and error rows (docs/output.md), same one-engine-per-executor sharing. The
 * result is lazy: generation runs when it is evaluated, and again at each evaluation unless it
 * is cached or written. Immutable: every setter returns a new instance.
 */
public final class KittyGenerate {
    private final Path jobConf;
    private final List<String> sets;
    private final Path model;

    private KittyGenerate(Path jobConf, List<String> sets, Path model) {
        this.jobConf = jobConf;
        this.sets = List.copyOf(sets);
        this.model = model;
    }

    /** The job's defaults (reference.conf). */
    public static KittyGenerate withDefaults() {
        return new KittyGenerate(null, List.of(), null);
    }

    /** A job config file, as {@code --job-conf} takes it. */
    public static KittyGenerate withJobConf(Path file) {
        return new KittyGenerate(file, List.of(), null);
    }

    /** One config key, as {@code --set key=value} takes it (the {@code kitty.} prefix may be left out). */
    public KittyGenerate set(String key, String value) {
        List<String> more = new ArrayList<>(sets);
        more.add(key + "=" + value);
        return new KittyGenerate(jobConf, more, model);
    }

    /** The Hugging Face model directory, as every executor sees it (default: kitty.model, else the bundled demo model). */
    public KittyGenerate model(Path dir) {
        return new KittyGenerate(jobConf, sets, dir);
    }

    /** The validated configuration; a bad key or value fails here, naming it. */
    public PipelineConfig config() {
        return JobConfig.load(GenerateRun.jobConfFile(jobConf), sets).pipeline(KittyHome.demoModel(), model);
    }

    /** {@code input} with the generated columns appended: one output row per input row. */
    public Dataset<Row> transform(Dataset<Row> input) {
        return new GenerationPipeline(input.sparkSession(), config()).transform(input);
    }
}
