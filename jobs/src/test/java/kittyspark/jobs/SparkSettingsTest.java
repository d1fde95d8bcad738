package kittyspark.jobs;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import kittyspark.jobs.generate.ExecutorWait;
import kittyspark.jobs.generate.JobConfig;
import kittyspark.jobs.generate.SparkSettings;
import kittyspark.jobs.generate.Versions;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who wins between spark-submit and the job's kitty.spark.* settings, and what a stuck job says. */
class SparkSettingsTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();

    @Test
    void settingsGivenToSparkSubmitWinOverTheJobsConfAndTheRestIsFilledIn() {
        JobConfig job = JobConfig.load(REPO.resolve("conf/cluster-gpu.conf"), List.of("kv.mode=fp16"));
        // What `spark-submit --master ... --executor-memory 3g --executor-cores 2
        //   --conf spark.executor.resource.gpu.amount=0` leaves in the SparkConf.
        SparkConf launched = new SparkConf(false).setMaster("spark://h:7077").set("spark.executor.memory", "3g")
                .set("spark.executor.cores", "2").set("spark.executor.resource.gpu.amount", "0");

        SparkSettings s = SparkSettings.resolve(launched, job);

        assertEquals("3g", s.conf().get("spark.executor.memory"));
        assertEquals("2", s.conf().get("spark.executor.cores"));
        assertEquals("0", s.conf().get("spark.executor.resource.gpu.amount"));
        assertEquals("spark://h:7077", s.conf().get("spark.master"));
        assertEquals("0.25", s.conf().get("spark.task.resource.gpu.amount"), "unset keys come from the job's conf");
        assertEquals(SparkSettings.LAUNCHER, s.source("spark.executor.memory"));
        assertTrue(s.source("spark.task.resource.gpu.amount").contains("cluster-gpu.conf"), s.source("spark.task.resource.gpu.amount"));
    }

    @Test
    void theWaitingMessageSaysWhatEachExecutorAsksForAndWhereEachFigureWasSet() {
        JobConfig job = JobConfig.load(REPO.resolve("conf/cluster-gpu.conf"), List.of("kv.mode=fp16"));
        SparkSettings s = SparkSettings.resolve(new SparkConf(false).setMaster("spark://h:7077")
                .set("spark.executor.memory", "3g"), job);
        String m = kittyspark.jobs.generate.ExecutorWait.message(s, Duration.ofSeconds(60));
        assertTrue(m.contains("no executor has been granted for 60 s"), m);
        assertTrue(m.contains("spark.executor.memory=3g (from " + SparkSettings.LAUNCHER + ")"), m);
        assertTrue(m.contains("spark.executor.cores=4 (from kitty.spark.conf in "), m);
        assertTrue(m.contains("spark.executor.resource.gpu.amount=1"), m);
    }

    @Test
    void theJarSaysWhichSparkScalaAndJavaItNeeds() {
        assertEquals(null, kittyspark.jobs.generate.Versions.problem("4.0.1", "2.13.16", 17));
        String old = kittyspark.jobs.generate.Versions.problem("3.5.3", "2.12.18", 17);
        assertTrue(old.contains("needs Spark 4.0.x built for Scala 2.13, on Java 17") && old.contains("this is Spark 3.5.3, Scala 2.12.18"), old);
    }
}
