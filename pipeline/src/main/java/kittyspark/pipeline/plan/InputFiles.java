package kittyspark.pipeline.plan;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import kittyspark.pipeline.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The input's files, checked on the driver before any Spark work: every file Spark would read
 * must be Parquet with a readable footer. A bad file fails the job with its name and what is
 * wrong, instead of a task failure deep in planning. There is deliberately no option to skip
 * bad files: their rows would be missing from the output without an error row.
 */
public final class InputFiles {
    private static final int MAX_NAMED = 5;

    private final String input;
    private final List<Path> files;
    private final SparkSession spark;

    private InputFiles(SparkSession spark, String input, List<Path> files) {
        this.spark = spark;
        this.input = input;
        this.files = files;
    }

    public static InputFiles check(SparkSession spark, String input) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path root = new Path(input);
        List<FileStatus> found = new ArrayList<>();
        try {
            FileSystem fs = root.getFileSystem(conf);
            if (!fs.exists(root)) {
                throw new InputException("input " + input + " does not exist; give a Parquet file or directory with --input");
            }
            collect(fs, fs.getFileStatus(root), found, true);
        } catch (IOException e) {
            throw new InputException("cannot open input " + input + ": " + e.getMessage(), e);
        }
        if (found.isEmpty()) {
            throw new InputException("input " + input + " holds no data files (names starting with '_' or '.' are ignored)");
        }
        List<String> bad = footerProblems(found, conf);
        if (!bad.isEmpty()) {
            throw new InputException("input " + input + ": " + bad.size() + " of " + found.size()
                    + " files cannot be read as Parquet; move them out of the input or replace them: "
                    + String.join("; ", bad.subList(0, Math.min(MAX_NAMED, bad.size())))
                    + (bad.size() > MAX_NAMED ? "; and " + (bad.size() - MAX_NAMED) + " more" : ""));
        }
        return new InputFiles(spark, input, found.stream().map(FileStatus::getPath).toList());
    }

    /** Leaf files as Spark's file index sees them: hidden names skipped, partition directories descended. */
    private static void collect(FileSystem fs, FileStatus s, List<FileStatus> out, boolean root) throws IOException {
        if (!root && hidden(s.getPath().getName())) {
            return;
        }
        if (s.isDirectory()) {
            for (FileStatus child : fs.listStatus(s.getPath())) {
                collect(fs, child, out, false);
            }
        } else {
            out.add(s);
        }
    }

    /** Spark's rule (InMemoryFileIndex.shouldFilterOut), so that we check exactly the files it reads. */
    static boolean hidden(String name) {
        boolean exclude = (name.startsWith("_") && !name.contains("=")) || name.startsWith(".") || name.endsWith("._COPYING_");
        boolean include = name.startsWith("_common_metadata") || name.startsWith("_metadata");
        return exclude && !include;
    }

    private static List<String> footerProblems(List<FileStatus> files, Configuration conf) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, files.size()), r -> {
            Thread t = new Thread(r, "kitty-input-check");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<String>> checks = new ArrayList<>();
            for (FileStatus f : files) {
                checks.add(pool.submit(() -> footerProblem(f, conf)));
            }
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < checks.size(); i++) {
                String p = checks.get(i).get();
                if (p != null) {
                    bad.add(files.get(i).getPath() + ": " + p);
                }
            }
            return bad;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InputException("interrupted while checking the input files", e);
        } catch (ExecutionException e) {
            throw new InputException("cannot check the input files: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static String footerProblem(FileStatus f, Configuration conf) {
        if (f.getLen() == 0) {
            return "the file is empty (0 bytes)";
        }
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromStatus(f, conf))) {
            r.getFooter();
            return null;
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            // Parquet's messages repeat the path; say it once.
            return m.replace(f.getPath().toString() + " ", "").replace(f.getPath().toUri().getPath() + " ", "");
        }
    }

    @Override
    public String toString() {
        return input;
    }

    public Dataset<Row> read() {
        try {
            return spark.read().parquet(input);
        } catch (RuntimeException e) {
            throw explain(e);
        }
    }

    /**
     * A failure while Spark reads the input, as an input error naming the file when the failure
     * names one of the input's files (Spark's read errors do); otherwise the failure itself.
     */
    public RuntimeException explain(Throwable failure) {
        Throwable root = failure;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            root = t;
            String m = String.valueOf(t.getMessage());
            for (Path f : files) {
                if (m.contains(f.toUri().getPath())) {
                    return new InputException("input file " + f + " cannot be read: " + rootMessage(failure), failure);
                }
            }
        }
        return failure instanceof RuntimeException re ? re
                : new InputException("reading the input " + input + " failed: " + root, failure);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
