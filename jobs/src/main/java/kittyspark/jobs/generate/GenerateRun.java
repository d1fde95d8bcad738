package kittyspark.jobs.generate;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import kittyspark.pipeline.GenerationPipeline;
import kittyspark.pipeline.JobSummary;
import kittyspark.pipeline.PipelineConfig;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Runs one generate job: config, Spark session, pipeline, printed summary. Shared by the CLI and spark-submit. */
public final class GenerateRun {
    private GenerateRun() {
    }

    public static JobSummary run(String input, String output, Path model, Path confFile, List<String> sets,
                                 boolean retryErrors, Path defaultModel, PrintStream out) {
        JobConfig jc = JobConfig.load(confFile, sets);
        PipelineConfig cfg = jc.pipeline(defaultModel, model);
        if (retryErrors) {
            cfg = cfg.withRun(cfg.run().withRetryErrors(true));
        }
        SparkSession spark = session(jc);
        JobSummary summary = new GenerationPipeline(spark, cfg).run(input, output);
        out.println(summary.toText());
        out.println("output: " + summary.output() + "  (summary: " + summary.output() + "/_kitty_summary.json)");
        return summary;
    }

    /** The active session (spark-submit, tests) or a new one from kitty.spark.* (the CLI's local mode). */
    static SparkSession session(JobConfig jc) {
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.master")) {
            conf.setMaster(jc.sparkMaster());
        }
        if (!conf.contains("spark.app.name")) {
            conf.setAppName(jc.appName());
        }
        for (Map.Entry<String, String> e : jc.sparkConf().entrySet()) {
            conf.set(e.getKey(), e.getValue());
        }
        if (conf.get("spark.master").startsWith("local") && !conf.contains("spark.ui.showConsoleProgress")) {
            conf.set("spark.ui.showConsoleProgress", "false"); // our progress lines say more
        }
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
