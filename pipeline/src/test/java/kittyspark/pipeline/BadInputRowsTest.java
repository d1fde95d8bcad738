package kittyspark.pipeline;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kittyspark.pipeline.executor.ExecutorEngines;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rows with bad nested values, in real Parquet through a real Spark job: each becomes an error
 * row that names the field; none fails the job. Schema-level mistakes still fail at once.
 */
class BadInputRowsTest {
    static SparkSession spark;
    @TempDir
    static Path models;
    static Path chatModel;

    @TempDir
    Path tmp;

    static final StructType MESSAGE = new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType);
    static final StructType PART = new StructType().add("type", DataTypes.StringType).add("text", DataTypes.StringType);
    static final StructType PART_MESSAGE = new StructType().add("role", DataTypes.StringType)
            .add("content", DataTypes.createArrayType(PART));
    static final StructType NESTED = new StructType()
            .add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType)
            .add("messages", DataTypes.createArrayType(MESSAGE))
            .add("stop", DataTypes.createArrayType(DataTypes.StringType))
            .add("max_new_tokens", DataTypes.DoubleType)
            .add("seed", DataTypes.createDecimalType(38, 0));

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
        chatModel = TestModels.withChatTemplate(models.resolve("chat"));
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    static Object seq(Object... items) {
        return CollectionConverters.asScala(Arrays.asList(items)).toSeq();
    }

    static Row nested(String id, String prompt, Object messages, Object stop, Double maxNew, BigDecimal seed) {
        return RowFactory.create(id, prompt, messages, stop, maxNew, seed);
    }

    private String write(List<Row> rows, StructType schema, String name) {
        String dir = tmp.resolve(name).toString();
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(dir);
        return dir;
    }

    private Map<String, Row> run(PipelineConfig cfg, String input, String output) {
        new GenerationPipeline(spark, cfg).run(input, output);
        Map<String, Row> byId = new HashMap<>();
        for (Row r : spark.read().parquet(output).collectAsList()) {
            assertNull(byId.put(r.getAs("id"), r), "one row per id");
        }
        return byId;
    }

    private static PipelineConfig chat() {
        return TestSpark.config().withModelDir(chatModel.toString());
    }

    @Test
    void badNestedValuesBecomeErrorRowsThatNameTheFieldAndTheJobFinishes() {
        Row hi = RowFactory.create("user", "def f():");
        List<Row> rows = List.of(
                nested("stop-null-alone", "def f():", null, seq((Object) null), null, null),
                nested("stop-null-beside-strings", "def f():", null, seq("\n", null), null, null),
                nested("messages-null-element", null, seq(hi, null), null, null, null),
                nested("messages-null-role", null, seq(RowFactory.create(null, "hi")), null, null, null),
                nested("messages-empty", null, seq(), null, null, null),
                nested("max-new-nan", "def f():", null, null, Double.NaN, null),
                nested("max-new-fraction", "def f():", null, null, 1.5, null),
                nested("seed-beyond-int64", "def f():", null, null, null, new BigDecimal("100000000000000000000")),
                nested("unknown-role", null, seq(RowFactory.create("wizard", "hi")), null, null, null),
                nested("good-prompt", "def f():", null, seq("\n\n"), 2.0, new BigDecimal("-7")),
                nested("good-messages", null, seq(hi), null, null, null));
        Map<String, Row> out = run(chat(), write(rows, NESTED, "in"), tmp.resolve("out").toString());

        assertEquals(rows.size(), out.size());
        assertEquals("stop[0] is null", out.get("stop-null-alone").getAs("error"));
        assertEquals("stop[1] is null", out.get("stop-null-beside-strings").getAs("error"));
        assertEquals("messages[1] is null", out.get("messages-null-element").getAs("error"));
        assertEquals("messages[0].role is null", out.get("messages-null-role").getAs("error"));
        assertTrue(out.get("messages-empty").<String>getAs("error").startsWith("messages is empty"));
        assertEquals("max_new_tokens is NaN, not a whole number", out.get("max-new-nan").getAs("error"));
        assertEquals("max_new_tokens is 1.5, not a whole number", out.get("max-new-fraction").getAs("error"));
        assertEquals("seed is 100000000000000000000, which does not fit in a 64-bit integer",
                out.get("seed-beyond-int64").getAs("error"));
        String unknownRole = out.get("unknown-role").getAs("error");
        assertTrue(unknownRole.contains("Unknown role: wizard"), "the template's own message: " + unknownRole);
        for (String good : List.of("good-prompt", "good-messages")) {
            assertNull(out.get(good).getAs("error"), good);
            assertNotNull(out.get(good).getAs("completion"), good);
        }
        for (Row r : out.values()) {
            assertEquals(r.getAs("error") == null, !"error".equals(r.getAs("finish_reason")));
        }
    }

    @Test
    void multiPartTextContentIsJoinedAsChatTemplatesExpectAndOtherPartsAreErrorRows() {
        List<Row> parts = List.of(
                RowFactory.create("parts", seq(RowFactory.create("user", seq(
                        RowFactory.create("text", "def mean(xs):"), RowFactory.create("text", "    return"))))),
                RowFactory.create("image", seq(RowFactory.create("user", seq(
                        RowFactory.create("text", "look"), RowFactory.create("image_url", null))))));
        StructType partSchema = new StructType().add("id", DataTypes.StringType)
                .add("messages", DataTypes.createArrayType(PART_MESSAGE));
        Map<String, Row> out = run(chat(), write(parts, partSchema, "parts"), tmp.resolve("out-parts").toString());

        StructType plainSchema = new StructType().add("id", DataTypes.StringType)
                .add("messages", DataTypes.createArrayType(MESSAGE));
        List<Row> plain = List.of(RowFactory.create("parts", seq(RowFactory.create("user", "def mean(xs):\n    return"))));
        Row joinedByHand = run(chat(), write(plain, plainSchema, "plain"), tmp.resolve("out-plain").toString()).get("parts");

        Row joined = out.get("parts");
        assertNull(joined.getAs("error"));
        assertEquals(joinedByHand.<Integer>getAs("prompt_tokens"), joined.<Integer>getAs("prompt_tokens"));
        assertEquals(joinedByHand.<String>getAs("completion"), joined.<String>getAs("completion"), "greedy: same prompt, same text");
        assertEquals("messages[0].content[1].type is 'image_url': only text parts are supported",
                out.get("image").getAs("error"));
    }

    @Test
    void aMessageRoleOfTheWrongTypeFailsAtOnceNamingTheField() {
        StructType intRole = new StructType().add("id", DataTypes.StringType).add("messages", DataTypes.createArrayType(
                new StructType().add("role", DataTypes.IntegerType).add("content", DataTypes.StringType)));
        String input = write(List.of(RowFactory.create("a", seq(RowFactory.create(1, "hi")))), intRole, "in");
        Path out = tmp.resolve("out");
        InputException e = assertThrows(InputException.class,
                () -> new GenerationPipeline(spark, chat()).run(input, out.toString()));
        assertTrue(e.getMessage().contains("messages[].role of type int"), e.getMessage());
        assertFalse(Files.exists(out.resolve("kitty_commit=000001")), "nothing generated");
    }

    @Test
    void inputColumnsNamedLikeTheJobsOwnColumnsPassThroughUnchanged() {
        StructType schema = TestSpark.INPUT
                .add("_kitty_occurrence", DataTypes.StringType)
                .add("_kitty_fingerprint", DataTypes.StringType)
                .add("_KITTY_LENGTH", DataTypes.IntegerType)
                .add("_kitty_rank", DataTypes.StringType)
                .add("_kitty_newest", DataTypes.StringType)
                .add("_kitty_done_id", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        for (Row r : TestSpark.goodRows(3)) {
            List<Object> v = new ArrayList<>(CollectionConverters.asJava(r.toSeq()));
            String id = r.getString(0);
            v.addAll(List.of("occ-" + id, "fp-" + id, id.length(), "rank-" + id, "newest-" + id, "done-" + id));
            rows.add(RowFactory.create(v.toArray()));
        }
        String input = write(rows, schema, "in");
        String output = tmp.resolve("out").toString();
        run(TestSpark.config(), input, output);
        // A changed config regenerates every row: compaction runs over the same names.
        Map<String, Row> out = run(TestSpark.config().withSampling(
                new PipelineConfig.SamplingDefaults(3, 0.0, 0, 1.0, List.of())), input, output);

        assertEquals(3, out.size());
        for (Row r : out.values()) {
            String id = r.getAs("id");
            assertNull(r.getAs("error"));
            assertEquals(2, r.<Integer>getAs("kitty_commit"));
            assertEquals("occ-" + id, r.getAs("_kitty_occurrence"));
            assertEquals("fp-" + id, r.getAs("_kitty_fingerprint"));
            assertEquals(id.length(), r.<Integer>getAs("_KITTY_LENGTH"));
            assertEquals("rank-" + id, r.getAs("_kitty_rank"));
            assertEquals("newest-" + id, r.getAs("_kitty_newest"));
            assertEquals("done-" + id, r.getAs("_kitty_done_id"));
        }
    }

    @Test
    void anInputColumnNamedLikeAnOutputColumnIgnoringCaseIsRefused() {
        StructType schema = TestSpark.INPUT.add("Error", DataTypes.StringType);
        List<Row> rows = List.of(RowFactory.create("a", "def f():", null, null, null, null, null, "good", "x"));
        String input = write(rows, schema, "in");
        InputException e = assertThrows(InputException.class,
                () -> new GenerationPipeline(spark, TestSpark.config()).run(input, tmp.resolve("out").toString()));
        assertTrue(e.getMessage().contains("'Error' has the name of the output column 'error'"), e.getMessage());
    }
}
