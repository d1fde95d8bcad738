package kittyspark.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
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
    void generateWritesOneRowPerInputRowAndASecondRunAddsNothingAndTheSwitchesForScheduledRunsHold() throws Exception {
        // The example's bad rows plus two good ones: fast on the CPU.
        Path input = tmp.resolve("in");
        spark.read().parquet(DEMO.toString()).where("source LIKE 'bad:%' OR source LIKE 'valid:%'")
                .union(spark.read().parquet(DEMO.toString()).where("source NOT LIKE 'bad:%' AND source NOT LIKE 'valid:%'").limit(2))
                .write().parquet(input.toString());
        Path outDir = tmp.resolve("out");
        String out = outDir.toString();
        String[] args = {"generate", "--input", input.toString(), "--output", out, "--kv", "fp16",
                "--set", "sampling.max-new-tokens=2", "--set", "engine.threads=2"};
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true));
        int dry, first, second, retried;
        StringWriter retryErr = new StringWriter();
        try {
            dry = cli(new StringWriter(), concat(args, "--dry-run"));
            assertTrue(Files.notExists(outDir), "a dry run writes nothing");
            assertTrue(printed.toString().contains("12 input: 12 to generate (12 new"), printed.toString());
            first = cli(new StringWriter(), concat(args, "--max-error-rate", "0.8"));
            second = cli(new StringWriter(), concat(args, "--max-error-rate", "0.5"));
            retried = cli(retryErr, concat(args, "--retry-errors", "--max-error-rate", "0.5"));
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, dry);
        assertEquals(0, first, "9 error rows of 12 is within 80%");
        assertEquals(0, second, "a rerun that generates nothing has no error rate");
        assertEquals(3, retried, "the 9 error rows fail again: 100% is over 50%");
        assertTrue(printed.toString().contains("above the allowed 50.0%"), printed.toString());
        Dataset<Row> result = spark.read().parquet(out);
        assertEquals(12, result.count());
        assertEquals(9, result.where("error IS NOT NULL").count());
        assertEquals(12, result.where("kv_mode = 'fp16'").count(), "--kv is the shortcut for kv.mode");
        assertTrue(printed.toString().contains("12 input: nothing to do, all 12 are in the output already"), printed.toString());
    }

    @Test
    void theJobsConfigFileIsJobConfBecauseSparkSubmitTakesConf() {
        StringWriter err = new StringWriter();
        int rc = cli(err, "generate", "--input", DEMO.toString(), "--output", tmp.resolve("o").toString(),
                "--conf", "conf/local.conf");
        assertEquals(2, rc);
        assertTrue(err.toString().contains("--job-conf conf/local.conf"), err.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void aFinishedOutputThatCannotBeWrittenExitsZeroWithNothingToDo() throws Exception {
        Path input = tmp.resolve("in");
        spark.read().parquet(DEMO.toString()).where("source NOT LIKE 'bad:%' AND source NOT LIKE 'valid:%'").limit(2)
                .write().parquet(input.toString());
        Path out = tmp.resolve("out");
        String[] args = {"generate", "--input", input.toString(), "--output", out.toString(),
                "--set", "sampling.max-new-tokens=2", "--set", "engine.threads=2"};
        assertEquals(0, cli(new StringWriter(), args));
        boolean immutable = makeReadOnly(out);
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(printed, true));
            StringWriter err = new StringWriter();
            assertEquals(0, cli(err, args), err.toString());
            assertTrue(printed.toString().contains("nothing to do, all 2 are in the output already"), printed.toString());
        } finally {
            System.setOut(stdout);
            if (immutable) {
                new ProcessBuilder("chattr", "-i", out.toString()).inheritIO().start().waitFor();
            }
            out.toFile().setWritable(true);
        }
    }

    /**
     * Makes a directory refuse new files: without write permission, or (for root, whom
     * permissions do not stop) immutable. Returns whether it used the immutable flag.
     */
    private static boolean makeReadOnly(Path dir) throws Exception {
        dir.toFile().setWritable(false, false);
        if (!canCreateIn(dir)) {
            return false;
        }
        int rc = new ProcessBuilder("chattr", "+i", dir.toString()).inheritIO().start().waitFor();
        org.junit.jupiter.api.Assumptions.assumeTrue(rc == 0 && !canCreateIn(dir),
                "cannot make a directory read-only on this machine");
        return true;
    }

    private static boolean canCreateIn(Path dir) {
        try {
            java.nio.file.Files.delete(java.nio.file.Files.createFile(dir.resolve("_probe")));
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
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
