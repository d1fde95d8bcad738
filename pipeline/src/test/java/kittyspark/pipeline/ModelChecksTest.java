package kittyspark.pipeline;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.pipeline.PipelineConfig.WeightsDigest;
import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.plan.ModelIdentity;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The model identity sees the weights' content, and a broken model fails before any Spark work. */
class ModelChecksTest {
    static SparkSession spark;
    static final String SHARD = "model-00002-of-00002.safetensors";

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    /** Where the largest tensor's data starts in a shard, and how long it is. */
    static long[] largestTensor(Path shard) throws Exception {
        try (FileChannel ch = FileChannel.open(shard)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long headerLen = len.getLong(0);
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            ch.read(header, 8);
            JsonNode root = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            long[] best = {0, 0};
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                JsonNode o = it.next().getValue().path("data_offsets");
                if (o.isArray() && o.get(1).asLong() - o.get(0).asLong() > best[1]) {
                    best = new long[]{8 + headerLen + o.get(0).asLong(), o.get(1).asLong() - o.get(0).asLong()};
                }
            }
            return best;
        }
    }

    static void flipByte(Path file, long at) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
    }

    @Test
    void changedWeightsOfTheSameSizeChangeTheIdentityAndAMovedModelKeepsIt() throws Exception {
        Path a = TestModels.copy(tmp.resolve("a/kitty-demo"));
        Path b = TestModels.copy(tmp.resolve("b/kitty-demo"));
        assertEquals(ModelIdentity.of(a, WeightsDigest.FULL), ModelIdentity.of(b, WeightsDigest.FULL), "same files, same identity");
        long size = Files.size(b.resolve(SHARD));
        long[] tensor = largestTensor(b.resolve(SHARD));
        assertTrue(tensor[1] > 64 * 1024, "a tensor big enough to have an unsampled middle");

        flipByte(b.resolve(SHARD), tensor[0] + tensor[1] / 2);

        assertEquals(size, Files.size(b.resolve(SHARD)));
        assertNotEquals(ModelIdentity.of(a, WeightsDigest.FULL), ModelIdentity.of(b, WeightsDigest.FULL),
                "full: any changed byte is seen");
        assertEquals(ModelIdentity.of(a, WeightsDigest.SAMPLED), ModelIdentity.of(b, WeightsDigest.SAMPLED),
                "sampled: the middle of a tensor is not read (the documented limit)");
        flipByte(b.resolve(SHARD), tensor[0] + 100);
        assertNotEquals(ModelIdentity.of(a, WeightsDigest.SAMPLED), ModelIdentity.of(b, WeightsDigest.SAMPLED),
                "sampled: the start of every tensor is read");
    }

    @Test
    void aTruncatedShardFailsBeforeAnySparkWorkNamingTheShard() throws Exception {
        Path model = TestModels.copy(tmp.resolve("model"));
        try (FileChannel ch = FileChannel.open(model.resolve(SHARD), java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        assertFailsBeforeSparkWork(model, SHARD);
    }

    @Test
    void aBrokenTokenizerFailsBeforeAnySparkWorkNamingTheFile() throws Exception {
        Path model = TestModels.copy(tmp.resolve("model"));
        Files.writeString(model.resolve("tokenizer.json"), "{\"model\": ");
        assertFailsBeforeSparkWork(model, "tokenizer.json");
    }

    private void assertFailsBeforeSparkWork(Path model, String named) {
        String input = TestSpark.write(spark, TestSpark.goodRows(2), tmp.resolve("in"));
        Path out = tmp.resolve("out");
        TestSpark.CountedFailure f = assertThrows(TestSpark.CountedFailure.class, () -> TestSpark.sparkJobsDuring(spark,
                () -> new GenerationPipeline(spark, TestSpark.config().withModelDir(model.toString())).run(input, out.toString())));
        assertTrue(f.getCause() instanceof InputException, f.getCause().toString());
        assertTrue(f.getCause().getMessage().contains(named), f.getCause().getMessage());
        assertEquals(0, f.jobs, "no Spark job started");
        assertFalse(Files.exists(out), "nothing written, not even the output directory");
    }
}
