package kittyspark.pipeline;

import kittyspark.pipeline.executor.RuntimeGenerationService;
import kittyspark.pipeline.output.WriteStep;
import org.apache.spark.sql.SparkSession;

/**
 * A generate job that dies like {@code kill -9} the first time its output reaches a given write
 * step: {@code Runtime.halt} runs no finally block, no shutdown hook, and leaves its lock behind.
 * Run in a child JVM by {@link CompactionTest}: {@code KilledJob INPUT OUTPUT STEP}.
 */
public final class KilledJob {
    public static final int HALTED = 137;

    private KilledJob() {
    }

    public static void main(String[] args) {
        WriteStep at = WriteStep.valueOf(args[2]);
        SparkSession spark = TestSpark.session();
        new GenerationPipeline(spark, CompactionTest.changedConfig(), RuntimeGenerationService.factory(), (step, commit) -> {
            if (step == at) {
                System.out.println("kitty-test: halting at " + step + " of commit " + commit);
                System.out.flush();
                Runtime.getRuntime().halt(HALTED);
            }
        }).run(args[0], args[1]);
        System.exit(3); // the step never came
    }
}
