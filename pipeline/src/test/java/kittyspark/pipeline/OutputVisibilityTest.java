package kittyspark.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import kittyspark.pipeline.executor.ExecutorEngines;
import kittyspark.pipeline.output.OutputStore;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What readers of the output directory see, and which directories the job refuses to write into. */
class OutputVisibilityTest {
    static SparkSession spark;

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

    /** What {@code read_parquet('OUT/**}{@code /*.parquet')} reads: every Parquet file anywhere under the output. */
    private static long rowsUnderGlob(Path out) throws Exception {
        List<String> files;
        try (Stream<Path> all = Files.walk(out)) {
            files = all.filter(p -> p.toString().endsWith(".parquet")).map(Path::toString).toList();
        }
        return files.isEmpty() ? 0 : spark.read().parquet(files.toArray(String[]::new)).count();
    }

    @Test
    void uncommittedRowsOfAKilledRunAreInvisibleToAGlobOfTheOutput() throws Exception {
        String input = TestSpark.write(spark, TestSpark.goodRows(3), tmp.resolve("in"));
        Path out = tmp.resolve("out");
        new GenerationPipeline(spark, TestSpark.config()).run(input, out.toString());
        assertEquals(3, rowsUnderGlob(out));
        // A run killed while writing its next commit leaves real Parquet in its staging directory.
        OutputStore store = new OutputStore(spark, out.toString(), "id");
        spark.read().parquet(out.toString()).drop("kitty_commit").write()
                .parquet(store.stagingDir() + "/kitty_commit=000002");

        Path staging = Path.of(new org.apache.hadoop.fs.Path(store.stagingDir()).toUri().getPath());
        assertTrue(Files.isDirectory(staging));
        assertFalse(staging.startsWith(out), "staging is beside the output: " + staging);
        assertEquals(3, rowsUnderGlob(out), "a glob of the output sees only committed rows");
        assertEquals(3, spark.read().parquet(out.toString()).count());
    }

    @Test
    void aFolderHoldingSomeoneElsesParquetIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path foreign = tmp.resolve("theirs");
        spark.range(5).toDF("n").write().parquet(foreign.toString());
        List<String> before;
        try (Stream<Path> s = Files.list(foreign)) {
            before = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        String input = TestSpark.write(spark, TestSpark.goodRows(1), tmp.resolve("in"));

        InputException e = assertThrows(InputException.class,
                () -> new GenerationPipeline(spark, TestSpark.config()).run(input, foreign.toString()));

        assertTrue(e.getMessage().contains("not a kitty-spark output"), e.getMessage());
        assertTrue(e.getMessage().contains("part-"), "it names what it found: " + e.getMessage());
        try (Stream<Path> s = Files.list(foreign)) {
            assertEquals(before, s.map(p -> p.getFileName().toString()).sorted().toList(), "nothing was written");
        }
        assertFalse(Files.exists(tmp.resolve(".theirs.kitty-work")));
    }

    @Test
    void anEmptyFolderAndAnEarlierOutputAreAccepted() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        String input = TestSpark.write(spark, TestSpark.goodRows(1), tmp.resolve("in"));
        new GenerationPipeline(spark, TestSpark.config()).run(input, empty.toString());
        assertTrue(Files.isRegularFile(empty.resolve(OutputStore.MARKER)), "the first commit marks the folder as ours");
        assertEquals(1, new GenerationPipeline(spark, TestSpark.config()).run(input, empty.toString()).skippedRows());
    }
}
