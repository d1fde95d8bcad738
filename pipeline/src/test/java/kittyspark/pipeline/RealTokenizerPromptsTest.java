package kittyspark.pipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.executor.GenerationService;
import kittyspark.pipeline.executor.RuntimeGenerationService;
import kittyspark.pipeline.plan.ChatTemplate;
import kittyspark.pipeline.plan.PromptEncoder;
import kittyspark.pipeline.plan.PromptRow;
import kittyspark.pipeline.plan.RowPlan;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.tokenizer.Tokenizer;
import kittyspark.runtime.tokenizer.TokenizerFiles;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prompts the generate job feeds a real Qwen3 or Llama 3.1 checkpoint are the ids Hugging
 * Face gives: plain prompts with the post-processor's specials (Llama's {@code <|begin_of_text|>}),
 * chats rendered by the checkpoint's own template with none added. Checked on every line of the
 * public tokenizer reference, and end to end through Spark for a {@code messages} column.
 */
class RealTokenizerPromptsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path models;
    @TempDir
    Path tmp;

    static Map<String, Path> dirs = new HashMap<>();

    @BeforeAll
    static void writeModels() throws IOException {
        for (String name : List.of("qwen3", "llama-3.1")) {
            dirs.put(name, TinyRealTokenizerModel.write(models.resolve(name), name));
        }
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void promptEncoderGivesTheReferencePromptIdsForEveryPlainTextAndChat(String name) throws IOException {
        Path dir = dirs.get(name);
        try (GenerationService engine = RuntimeGenerationService.open(EngineOptions.cpu(dir))) {
            PromptEncoder encoder = new PromptEncoder(engine, ChatTemplate.load(dir), false, 0);
            List<String> wrong = new ArrayList<>();
            int lines = 0;
            for (JsonNode line : reference(name)) {
                lines++;
                PromptRow row = line.has("messages")
                        ? new PromptRow(line.path("id").asText(), 1, null, messages(line.get("messages")), null, null, null, null, null)
                        : new PromptRow(line.path("id").asText(), 1, line.path("text").asText(), null, null, null, null, null, null);
                PromptEncoder.Encoded e = encoder.encode(RowPlan.of(row, TestSpark.config(), "m"));
                int[] expected = JSON.convertValue(line.get("prompt_ids"), int[].class);
                if (e.error() != null || !Arrays.equals(expected, e.tokens())) {
                    wrong.add(line.path("id").asText() + ": " + (e.error() != null ? e.error()
                            : "first difference at " + Arrays.mismatch(expected, e.tokens())));
                }
            }
            assertEquals(105, lines);
            assertEquals(List.of(), wrong, name);
        }
    }

    @Test
    void generateJobRendersAMessagesColumnWithTheRealQwen3TemplateIntoTheReferenceIds() throws IOException {
        SparkSession spark = TestSpark.session();
        StructType message = new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType);
        StructType schema = new StructType().add("id", DataTypes.StringType)
                .add("messages", DataTypes.createArrayType(message));
        List<Row> rows = new ArrayList<>();
        Map<String, Integer> expectedTokens = new HashMap<>();
        for (JsonNode line : reference("qwen3")) {
            if (line.has("messages")) {
                List<Row> msgs = new ArrayList<>();
                line.get("messages").forEach(m -> msgs.add(RowFactory.create(m.path("role").asText(), m.path("content").asText())));
                rows.add(RowFactory.create(line.path("id").asText(), scala.jdk.javaapi.CollectionConverters.asScala(msgs).toSeq()));
                expectedTokens.put(line.path("id").asText(), line.path("prompt_ids").size());
            }
        }
        // Content is data: template syntax in a message is text, not code; a message without a role is the row's error.
        rows.add(RowFactory.create("template-syntax", scala.jdk.javaapi.CollectionConverters.asScala(List.of(
                RowFactory.create("user", "{{ raise_exception('x') }} {{ 7*7 }}"))).toSeq()));
        rows.add(RowFactory.create("no-role", scala.jdk.javaapi.CollectionConverters.asScala(List.of(
                RowFactory.create(null, "hi"))).toSeq()));
        String input = tmp.resolve("in").toString();
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(input);
        PipelineConfig cfg = TestSpark.config().withModelDir(dirs.get("qwen3").toString())
                .withSampling(new PipelineConfig.SamplingDefaults(2, 0.0, 0, 1.0, List.of())).withFidelityFraction(0.0)
                .withRun(new PipelineConfig.RunSettings(1, 8, 1000, Duration.ofSeconds(5), false, Duration.ofMinutes(10)));
        JobSummary s = new GenerationPipeline(spark, cfg).run(input, tmp.resolve("out").toString());
        assertEquals(rows.size(), s.inputRows());
        Map<String, Row> out = new HashMap<>();
        spark.read().parquet(tmp.resolve("out").toString()).collectAsList().forEach(r -> out.put(r.getAs("id"), r));
        for (Map.Entry<String, Integer> e : expectedTokens.entrySet()) {
            Row r = out.get(e.getKey());
            assertNull(r.getAs("error"), e.getKey());
            assertEquals(e.getValue(), r.<Integer>getAs("prompt_tokens"), e.getKey() + " prompt tokens");
            assertNotNull(r.getAs("completion"));
        }
        Row literal = out.get("template-syntax");
        assertNull(literal.getAs("error"), "template syntax inside content renders as text");
        assertEquals(encodeRendered("<|im_start|>user\n{{ raise_exception('x') }} {{ 7*7 }}<|im_end|>\n<|im_start|>assistant\n"),
                literal.<Integer>getAs("prompt_tokens"));
        String noRole = out.get("no-role").getAs("error");
        assertTrue(noRole != null && noRole.contains("role"), noRole);
    }

    private static int encodeRendered(String text) {
        return kittyspark.runtime.tokenizer.Tokenizer.load(TokenizerFiles.tokenizerJson(dirs.get("qwen3"))).encode(text).length;
    }

    private static List<PromptRow.ChatMessage> messages(JsonNode array) {
        List<PromptRow.ChatMessage> out = new ArrayList<>();
        array.forEach(m -> out.add(new PromptRow.ChatMessage(m.path("role").asText(), m.path("content").asText())));
        return out;
    }

    private static List<JsonNode> reference(String name) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path file = TestSpark.REPO.resolve("data/tokenizers/reference-public.jsonl.xz");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(TokenizerFiles.open(file), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                JsonNode o = JSON.readTree(line);
                if (o.path("tokenizer").asText().equals(name)) {
                    out.add(o);
                }
            }
        }
        return out;
    }
}
