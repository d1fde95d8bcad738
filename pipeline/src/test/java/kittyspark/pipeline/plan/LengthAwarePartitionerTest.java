package kittyspark.pipeline.plan;

import java.util.ArrayList;
import java.util.List;

import kittyspark.pipeline.TestSpark;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dealing rows by length: ranked on the driver or by Spark's sort, the same partitions, longest first in each. */
class LengthAwarePartitionerTest {
    static final StructType SCHEMA = new StructType()
            .add("payload", DataTypes.StringType)
            .add("len", DataTypes.IntegerType, false)
            .add("tie", DataTypes.StringType, false);
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
    }

    /** 23 rows, lengths with repeats (ties broken by the tie column), spread over 3 input partitions. */
    private static Dataset<Row> rows(boolean withExactDuplicate) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            rows.add(RowFactory.create("p" + i, length(i), tie(i)));
        }
        if (withExactDuplicate) {
            rows.add(RowFactory.create("p-dup", length(5), tie(5)));
        }
        return spark.createDataFrame(rows, SCHEMA).repartition(3);
    }

    private static int length(int i) {
        return (i * 37) % 11 * 100;
    }

    private static String tie(int i) {
        return String.format("t%02d", (i * 7) % 23);
    }

    private static List<List<String>> partitions(JavaRDD<Row> dealt) {
        return dealt.map(r -> r.getString(0)).glom().collect();
    }

    @Test
    void rankingOnTheDriverDealsWhatSparksSortDeals() {
        Dataset<Row> in = rows(false);
        List<List<String>> byDriver = partitions(LengthAwarePartitioner.deal(
                LengthAwarePartitioner.rankedOnDriver(in, "len", "tie"), 4));
        List<List<String>> bySort = partitions(LengthAwarePartitioner.deal(
                LengthAwarePartitioner.rankedBySort(in, "len", "tie"), 4));
        assertEquals(bySort, byDriver);
        assertEquals(4, byDriver.size());
        for (List<String> p : byDriver) {
            assertTrue(p.size() == 5 || p.size() == 6, "balanced by count: " + byDriver);
        }
    }

    @Test
    void everyPartitionRunsLongestFirstAndHoldsOneOfEachLengthBand() {
        Dataset<Row> spread = LengthAwarePartitioner.spread(spark, rows(false), "len", "tie", 4, 23);
        List<List<Row>> parts = spread.javaRDD().glom().collect();
        assertEquals(4, parts.size());
        int[] sums = new int[4];
        for (int p = 0; p < 4; p++) {
            List<Row> part = parts.get(p);
            for (int i = 1; i < part.size(); i++) {
                assertTrue(part.get(i - 1).getInt(1) >= part.get(i).getInt(1), "partition " + p + " longest first: " + part);
            }
            sums[p] = part.stream().mapToInt(r -> r.getInt(1)).sum();
            assertTrue(part.get(0).getInt(1) >= 900, "each partition starts with one of the longest rows: " + part);
        }
        int max = java.util.Arrays.stream(sums).max().getAsInt();
        int min = java.util.Arrays.stream(sums).min().getAsInt();
        assertTrue(max - min <= 1000, "work per partition within one row's length: " + java.util.Arrays.toString(sums));
    }

    @Test
    void rowsSharingLengthAndTieValueAreDealtTogetherAndNoneIsLostOrRepeated() {
        List<List<String>> parts = partitions(LengthAwarePartitioner.deal(
                LengthAwarePartitioner.rankedOnDriver(rows(true), "len", "tie"), 4));
        List<String> all = parts.stream().flatMap(List::stream).sorted().toList();
        assertEquals(24, all.size());
        assertEquals(24, all.stream().distinct().count());
        List<String> withDup = parts.stream().filter(p -> p.contains("p-dup")).findFirst().orElseThrow();
        assertTrue(withDup.contains("p5"), "p5 has the same length and tie value: " + parts);
    }
}
