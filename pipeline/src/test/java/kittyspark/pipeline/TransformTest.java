package kittyspark.pipeline;

import java.util.List;

import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.output.ErrorCode;
import kittyspark.pipeline.output.OutputSchema;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DataFrame entry point: a Dataset in, the same output columns and error rows out. */
class TransformTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    @Test
    void aTableWithIntegerIdsBecomesOneOutputRowPerInputRowWithTheJobsColumns() {
        Dataset<Row> table = spark.createDataFrame(TestSpark.goodRows(2), TestSpark.INPUT)
                .withColumn("id", functions.monotonically_increasing_id().plus(100))
                .union(spark.createDataFrame(List.of(TestSpark.row(null, null, null, null, null, null, null, "bad")), TestSpark.INPUT)
                        .withColumn("id", functions.lit(7L)));
        table.createOrReplaceTempView("prompts");

        Dataset<Row> out = new GenerationPipeline(spark, TestSpark.config()).transform(spark.table("prompts"));

        assertEquals(OutputSchema.of(table.schema()), out.schema());
        List<Row> rows = out.collectAsList();
        assertEquals(3, rows.size());
        for (Row r : rows) {
            boolean bad = "bad".equals(r.getAs("source"));
            assertEquals(bad ? ErrorCode.INVALID_INPUT : null, r.getAs("error_code"), r.toString());
            assertTrue(r.<Long>getAs("id") >= 7, "the id keeps its integer type");
            assertTrue(r.<String>getAs("run_id").startsWith("df-"));
        }
    }
}
