package kittyspark.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import kittyspark.jobs.cli.KittyCli;
import kittyspark.pipeline.executor.ExecutorEngines;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kitty-spark generate} as a user runs it, over the bundled example dataset's bad rows. */
class GenerateCommandTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    static final Path DEMO = REPO.resolve("data/demo-prompts.parquet");
    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
    }

    @AfterAll
    static void stop() {
        ExecutorEngines.closeAll();
    }

    private static int cli(StringWriter err, String... args) {
        CommandLine cli = KittyCli.commandLine();
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void theBundledExampleHoldsHeldOutPromptsAndEveryKindOfBadRow() {
        Dataset<Row> demo = spark.read().parquet(DEMO.toString());
        Set<String> sources = demo.select("source").collectAsList().stream().map(r -> r.getString(0)).collect(Collectors.toSet());
        assertTrue(sources.containsAll(List.of("bad: null id", "bad: empty id", "bad: duplicate id", "bad: null prompt",
                "bad: prompt longer than the 4096-token context", "bad: negative max_new_tokens", "bad: NaN temperature",
                "bad: top_p 0", "bad: top_p 1.5")), sources.toString());
        assertEquals(24, demo.where("source NOT LIKE 'bad:%' AND source NOT LIKE 'valid:%'").count());
    }

    @Test
    void generateWritesOneRowPerInputRowAndASecondRunAddsNothing() {
        // The example's bad rows plus two good ones: fast on the CPU.
        Path input = tmp.resolve("in");
        spark.read().parquet(DEMO.toString()).where("source LIKE 'bad:%' OR source LIKE 'valid:%'")
                .union(spark.read().parquet(DEMO.toString()).where("source NOT LIKE 'bad:%' AND source NOT LIKE 'valid:%'").limit(2))
                .write().parquet(input.toString());
        String out = tmp.resolve("out").toString();
        String[] args = {"generate", "--input", input.toString(), "--output", out,
                "--set", "sampling.max-new-tokens=2", "--set", "engine.threads=2"};
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true));
        try {
            assertEquals(0, cli(new StringWriter(), args));
            assertEquals(0, cli(new StringWriter(), args));
        } finally {
            System.setOut(stdout);
        }
        Dataset<Row> result = spark.read().parquet(out);
        assertEquals(12, result.count());
        assertEquals(9, result.where("error IS NOT NULL").count());
        assertTrue(printed.toString().contains("12 input: 0 ok, 0 error, 12 skipped"), printed.toString());
    }

    @Test
    void aMissingInputFailsWithAMessageThatSaysWhatToFix() {
        StringWriter err = new StringWriter();
        int rc = cli(err, "generate", "--input", tmp.resolve("nope.parquet").toString(), "--output", tmp.resolve("o").toString());
        assertEquals(1, rc);
        assertTrue(err.toString().contains("does not exist"), err.toString());
    }

    @Test
    void aBadConfigValueFailsBeforeSparkWorkStarts() {
        StringWriter err = new StringWriter();
        int rc = cli(err, "generate", "--input", DEMO.toString(), "--output", tmp.resolve("o").toString(),
                "--set", "kv.mode=int3");
        assertEquals(1, rc);
        assertTrue(err.toString().contains("kitty.kv.mode"), err.toString());
    }
}
