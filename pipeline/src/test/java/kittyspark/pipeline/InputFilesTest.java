package kittyspark.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bad file in the input fails the job before any Spark work, naming the file and what is wrong. */
class InputFilesTest {
    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
    }

    /** A Spark-written input of two files (plus Spark's own hidden _SUCCESS and .crc files). */
    private Path input() throws Exception {
        Path in = tmp.resolve("in");
        spark.createDataFrame(TestSpark.goodRows(4), TestSpark.INPUT).repartition(2).write().parquet(in.toString());
        return in;
    }

    private static Path aPartFile(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
    }

    private String failure(Path in) {
        Path out = tmp.resolve("out");
        TestSpark.CountedFailure f = assertThrows(TestSpark.CountedFailure.class, () -> TestSpark.sparkJobsDuring(spark,
                () -> new GenerationPipeline(spark, TestSpark.config()).run(in.toString(), out.toString())));
        assertTrue(f.getCause() instanceof InputException, f.getCause().toString());
        assertEquals(0, f.jobs, "no Spark job started");
        assertFalse(Files.exists(out), "nothing written");
        return f.getCause().getMessage();
    }

    @Test
    void aTruncatedParquetFileIsNamed() throws Exception {
        Path in = input();
        Path part = aPartFile(in);
        byte[] bytes = Files.readAllBytes(part);
        Files.write(part, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        String m = failure(in);
        assertTrue(m.contains(part.getFileName().toString()) && m.contains("1 of 2 files cannot be read as Parquet"), m);
    }

    @Test
    void aFolderMixingParquetAndOtherFilesNamesTheOthers() throws Exception {
        Path in = input();
        Files.writeString(in.resolve("notes.txt"), "prompts collected on monday\n");
        String m = failure(in);
        assertTrue(m.contains("notes.txt"), m);
        assertFalse(m.contains(aPartFile(in).getFileName().toString()), "the Parquet files are fine: " + m);
    }

    @Test
    void anEmptyFileIsNamed() throws Exception {
        Path in = input();
        Files.write(in.resolve("part-empty.parquet"), new byte[0]);
        String m = failure(in);
        assertTrue(m.contains("part-empty.parquet: the file is empty"), m);
    }
}
