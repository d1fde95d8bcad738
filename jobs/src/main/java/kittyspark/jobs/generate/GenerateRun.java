package kittyspark.jobs.generate;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import kittyspark.jobs.cli.KittyHome;
import kittyspark.pipeline.GenerationPipeline;
import kittyspark.pipeline.JobSummary;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.plan.RunPreview;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Runs one generate job: config, Spark session, pipeline, printed summary. Shared by the CLI and spark-submit. */
public final class GenerateRun {
    /** Exit status when more rows failed than {@code --max-error-rate} allows. */
    public static final int EXIT_ERROR_RATE = 3;

    private GenerateRun() {
    }

    /**
     * What the user asked for.
     *
     * @param model        --model, or null
     * @param jobConf      --job-conf, or null
     * @param sets         --set overrides (and the shortcuts --kv, --device), applied in order
     * @param maxErrorRate --max-error-rate, or null for kitty.run.max-error-rate
     */
    public record Request(String input, String output, Path model, Path jobConf, List<String> sets,
                          boolean retryErrors, boolean dryRun, Double maxErrorRate) {
        public Request {
            sets = sets == null ? List.of() : List.copyOf(sets);
        }
    }

    /** Runs the job (or, with --dry-run, says what it would do); returns the exit status. */
    public static int run(Request r, Path defaultModel, PrintStream out) {
        List<String> sets = new ArrayList<>(r.sets());
        if (r.retryErrors()) {
            sets.add("run.retry-errors=true");
        }
        if (r.maxErrorRate() != null) {
            sets.add("run.max-error-rate=" + r.maxErrorRate());
        }
        JobConfig jc = JobConfig.load(jobConfFile(r.jobConf()), sets);
        PipelineConfig cfg = jc.pipeline(defaultModel, r.model());
        Versions.check();
        SparkSettings settings = SparkSettings.resolve(new SparkConf(), jc);
        SparkSession spark = SparkSession.builder().config(settings.conf()).getOrCreate();
        GenerationPipeline pipeline = new GenerationPipeline(spark, cfg).withProgress(out::println);
        try (ExecutorWait watch = ExecutorWait.start(spark.sparkContext(), settings, jc.executorWait(), out)) {
            if (r.dryRun()) {
                RunPreview preview = pipeline.preview(r.input(), r.output());
                out.println(preview.toText());
                return 0;
            }
            JobSummary summary = pipeline.run(r.input(), r.output());
            out.println(summary.toText());
            out.println("output: " + summary.output() + "  (summary: " + summary.output() + "/_kitty_summary.json;"
                    + " how to read it: docs/output.md)");
            return errorRateStatus(summary, jc.maxErrorRate(), out);
        }
    }

    /** 0, or {@link #EXIT_ERROR_RATE} with a sentence when this run's error rows exceed the allowed share. */
    static int errorRateStatus(JobSummary s, double maxErrorRate, PrintStream out) {
        long rows = s.okRows() + s.errorRows();
        if (rows == 0 || maxErrorRate >= 1.0) {
            return 0;
        }
        double rate = (double) s.errorRows() / rows;
        if (rate > maxErrorRate) {
            out.printf(Locale.ROOT, "kitty: %d of %d rows generated this run are errors (%.1f%%), above the allowed %.1f%%"
                    + " (--max-error-rate / kitty.run.max-error-rate): exit %d%n", s.errorRows(), rows, 100 * rate,
                    100 * maxErrorRate, EXIT_ERROR_RATE);
            return EXIT_ERROR_RATE;
        }
        return 0;
    }

    /** A relative --job-conf that is not under the working directory is looked up in the kitty-spark home. */
    public static Path jobConfFile(Path given) {
        if (given == null || given.isAbsolute() || Files.exists(given)) {
            return given;
        }
        Path home = KittyHome.dir().resolve(given);
        return Files.exists(home) ? home : given;
    }
}
