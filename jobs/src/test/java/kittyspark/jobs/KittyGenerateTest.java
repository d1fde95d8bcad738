package kittyspark.jobs;

import java.nio.file.Path;
import java.util.List;

import kittyspark.jobs.generate.JobConfig;
import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.output.OutputSchema;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DataFrame entry point as a Spark user calls it from their own code. */
class KittyGenerateTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    @Test
    void aTableIsGeneratedWithTheJobsConfigColumnsAndErrorRows() {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType);
        spark.createDataFrame(List.of(RowFactory.create("a", "def f():\n"), RowFactory.create("b", null)), schema)
                .createOrReplaceTempView("my_prompts");

        Dataset<Row> out = KittyGenerate.withJobConf(REPO.resolve("conf/local.conf"))
                .set("kv.mode", "kivi").set("sampling.max-new-tokens", "3").transform(spark.table("my_prompts"));

        assertEquals(OutputSchema.of(schema), out.schema());
        Row a = out.where("id = 'a'").first();
        Row b = out.where("id = 'b'").first();
        assertNull(a.getAs("error"));
        assertEquals("kivi", a.getAs("kv_mode"));
        assertTrue(a.<Integer>getAs("completion_tokens") <= 3);
        assertEquals("invalid_input", b.getAs("error_code"));
    }

    @Test
    void aBadKeyFailsBeforeAnySparkWork() {
        var e = assertThrows(JobConfig.ConfigError.class, () -> KittyGenerate.withDefaults().set("kv.mod", "kitty").config());
        assertTrue(e.getMessage().contains("did you mean 'kitty.kv.mode'"), e.getMessage());
    }
}
