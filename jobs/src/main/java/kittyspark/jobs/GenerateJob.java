package kittyspark.jobs;

import kittyspark.jobs.cli.GenerateCommand;
import kittyspark.jobs.cli.KittyCli;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;

/**
 * The spark-submit entry point:
 * {@code spark-submit --class kittyspark.jobs.GenerateJob jobs/target/kitty-spark-jobs.jar --input IN --output OUT [--job-conf FILE ...]}.
 * Same options as {@code kitty-spark generate}; the master and any Spark setting given to
 * spark-submit win over the job's config.
 */
public final class GenerateJob {
    private GenerateJob() {
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new GenerateCommand());
        cli.setExecutionExceptionHandler(KittyCli.commandLine().getExecutionExceptionHandler());
        int rc = cli.execute(args);
        // The job owns its session: stop it so executors are released at once, then say how it went.
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        System.exit(rc);
    }
}
