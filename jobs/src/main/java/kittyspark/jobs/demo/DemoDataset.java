package kittyspark.jobs.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Builds the bundled example {@code data/demo-prompts.parquet}: the first characters of
 * held-out Python files (never seen by the demo model in training) as prompts, plus one row
 * of every bad kind the job must turn into an error row, and one exotic-unicode row that is
 * valid. Run: {@code java -cp ... kittyspark.jobs.demo.DemoDataset HELDOUT.jsonl data/demo-prompts.parquet}, where
 * HELDOUT.jsonl holds {@code {id, path, text}} lines the demo model was not trained on.
 */
public final class DemoDataset {
    public static final int FILES = 24;
    public static final int PROMPT_CHARS = 1500;

    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType)
            .add("max_new_tokens", DataTypes.IntegerType)
            .add("temperature", DataTypes.DoubleType)
            .add("top_p", DataTypes.DoubleType)
            .add("seed", DataTypes.LongType)
            .add("source", DataTypes.StringType);

    private DemoDataset() {
    }

    public static List<Row> rows(Path heldoutJsonl) throws IOException {
        List<Row> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = Files.newBufferedReader(heldoutJsonl)) {
            String line;
            while ((line = r.readLine()) != null && rows.size() < FILES) {
                JsonNode doc = json.readTree(line);
                String text = doc.get("text").asText();
                String prompt = text.substring(0, Math.min(PROMPT_CHARS, text.length()));
                // Every fourth row samples, to show per-row parameters; the rest are greedy.
                boolean sample = rows.size() % 4 == 3;
                rows.add(RowFactory.create(doc.get("id").asText(), prompt, null, sample ? 0.8 : null,
                        sample ? 0.95 : null, null, doc.get("path").asText()));
            }
        }
        String first = rows.get(0).getString(0);
        rows.add(RowFactory.create(null, "def f():\n", null, null, null, null, "bad: null id"));
        rows.add(RowFactory.create("", "def f():\n", null, null, null, null, "bad: empty id"));
        rows.add(RowFactory.create(first, "def duplicate():\n", null, null, null, null, "bad: duplicate id"));
        rows.add(RowFactory.create("bad-null-prompt", null, null, null, null, null, "bad: null prompt"));
        rows.add(RowFactory.create("bad-too-long", "x = 1\n".repeat(6000), null, null, null, null,
                "bad: prompt longer than the 4096-token context"));
        rows.add(RowFactory.create("bad-negative-max", "def f():\n", -1, null, null, null, "bad: negative max_new_tokens"));
        rows.add(RowFactory.create("bad-nan-temperature", "def f():\n", null, Double.NaN, null, null, "bad: NaN temperature"));
        rows.add(RowFactory.create("bad-top-p-zero", "def f():\n", null, null, 0.0, null, "bad: top_p 0"));
        rows.add(RowFactory.create("bad-top-p-big", "def f():\n", null, null, 1.5, null, "bad: top_p 1.5"));
        rows.add(RowFactory.create("unicode-valid",
                "# 日本語のコメント 😀🎉 שלום עולם مرحبا e\u0301 zero\u200bwidth nul\u0000byte\ndef greet():\n",
                null, null, null, 7L, "valid: CJK, emoji, RTL, combining mark, zero-width, NUL"));
        return rows;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: DemoDataset HELDOUT.jsonl [OUT.parquet]");
            System.exit(2);
        }
        Path in = Path.of(args[0]);
        Path out = Path.of(args.length > 1 ? args[1] : "data/demo-prompts.parquet");
        SparkSession spark = SparkSession.builder().master("local[1]").appName("demo-dataset")
                .config("spark.ui.enabled", "false").getOrCreate();
        Path tmp = Files.createTempDirectory("demo-prompts");
        spark.createDataFrame(rows(in), SCHEMA).coalesce(1).write().mode("overwrite").parquet(tmp.toString());
        spark.stop();
        // One plain Parquet file is easier to ship and inspect than Spark's directory of parts.
        try (Stream<Path> files = Files.list(tmp)) {
            Path part = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.copy(part, out, StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.println("wrote " + out + " (" + Files.size(out) + " bytes)");
    }
}
