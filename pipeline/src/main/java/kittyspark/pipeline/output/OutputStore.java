package kittyspark.pipeline.output;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import kittyspark.pipeline.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output dataset and how it grows without ever showing a row twice or half a commit.
 *
 * <p>Layout: {@code OUT/kitty_commit=000001/part-*.parquet}, one directory per commit, so
 * {@code spark.read.parquet(OUT)} reads every row (with a {@code kitty_commit} column), and
 * {@code OUT/_kitty_output.json} marks the directory as a kitty-spark output. A commit is
 * written by Spark's Parquet writer into the work directory {@code .OUT.kitty-work/} beside
 * {@code OUT} (so that no glob of {@code OUT}, such as DuckDB's {@code OUT/**}{@code /*.parquet},
 * ever sees uncommitted rows) and then renamed into place: one directory rename, atomic on
 * HDFS and local file systems. A killed job leaves at most a staging directory, which the next
 * run deletes; every commit that finished is kept and its rows are not redone. A directory
 * that holds anything else (someone else's Parquet) is refused before anything is written.
 *
 * <p>A regenerated row (changed fingerprint, or --retry-errors) lands in a newer commit than
 * its old version. The newest commit wins ({@link #latest}); at the end of the run the older
 * commits that hold superseded rows are rewritten without them ({@link #compact}), by
 * swapping a filtered copy in through the work directory's {@code replaced/}. {@link #recover} finishes a swap
 * that a crash interrupted. So a reader that uses plain {@code spark.read.parquet(OUT)} sees
 * each row exactly once whenever no job is running, and {@link #latest} is exact at any time.
 */
public final class OutputStore {
    private static final Logger LOG = LoggerFactory.getLogger(OutputStore.class);
    private static final String PREFIX = OutputSchema.COMMIT + "=";
    /** Written with the first commit: what makes a directory recognisably a kitty-spark output. */
    public static final String MARKER = "_kitty_output.json";
    /** Names a kitty-spark output holds besides its commits. */
    private static final java.util.Set<String> OWN_FILES = java.util.Set.of(MARKER, "_kitty_summary.json", "_kitty_runs",
            "_staging", "_replaced", "_SUCCESS");

    private final SparkSession spark;
    private final Path root;
    private final FileSystem fs;
    private final String idColumn;
    private final Path work;

    public OutputStore(SparkSession spark, String output, String idColumn) {
        this.spark = spark;
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        this.idColumn = idColumn;
        try {
            Path given = new Path(output);
            this.fs = given.getFileSystem(conf);
            this.root = fs.makeQualified(given);
            if (root.getParent() == null) {
                throw new InputException("output " + output + " is the root of its file system; give a directory below it");
            }
            this.work = new Path(root.getParent(), "." + root.getName() + ".kitty-work");
            if (fs.exists(root) && !fs.getFileStatus(root).isDirectory()) {
                throw new InputException("output " + output + " is a file; give a directory for the output dataset");
            }
            refuseForeign(output);
        } catch (IOException e) {
            throw new InputException("cannot open output " + output + ": " + e.getMessage(), e);
        }
    }

    /** An existing, non-empty directory that is not a kitty-spark output is someone else's data: never write into it. */
    private void refuseForeign(String output) throws IOException {
        if (!fs.exists(root)) {
            return;
        }
        List<String> foreign = new ArrayList<>();
        boolean ours = false;
        for (FileStatus s : fs.listStatus(root)) {
            String name = s.getPath().getName();
            if (name.equals(MARKER) || (s.isDirectory() && name.startsWith(PREFIX))) {
                ours = true;
            } else if (!OWN_FILES.contains(name)) {
                foreign.add(name);
            }
        }
        if (!ours && !foreign.isEmpty()) {
            throw new InputException("output " + output + " already holds files that are not a kitty-spark output ("
                    + String.join(", ", foreign.subList(0, Math.min(3, foreign.size())))
                    + (foreign.size() > 3 ? ", and " + (foreign.size() - 3) + " more" : "")
                    + "); nothing was written. Give a new or empty directory, or an earlier kitty-spark output");
        }
    }

    /** Where commits are written before they are renamed in: beside the output, not under it. */
    Path staging() {
        return new Path(work, "staging");
    }

    /** {@link #staging()} as a URI string (for tests and messages). */
    public String stagingDir() {
        return staging().toString();
    }

    /** Where compaction parks a commit while its filtered copy takes its place. */
    Path replaced() {
        return new Path(work, "replaced");
    }

    public String path() {
        return root.toString();
    }

    /** Committed commit numbers, ascending. */
    public List<Integer> commits() {
        List<Integer> out = new ArrayList<>();
        try {
            if (!fs.exists(root)) {
                return out;
            }
            for (FileStatus s : fs.listStatus(root)) {
                String name = s.getPath().getName();
                if (s.isDirectory() && name.startsWith(PREFIX)) {
                    out.add(Integer.parseInt(name.substring(PREFIX.length())));
                }
            }
        } catch (IOException e) {
            throw new InputException("cannot list output " + root + ": " + e.getMessage(), e);
        }
        out.sort(null);
        return out;
    }

    /** Whether the output directory exists yet. */
    public boolean exists() {
        try {
            return fs.exists(root);
        } catch (IOException e) {
            throw new InputException("cannot open output " + root + ": " + e.getMessage(), e);
        }
    }

    public boolean isEmpty() {
        return commits().isEmpty();
    }

    private Path commitDir(int n) {
        return new Path(root, PREFIX + String.format(Locale.ROOT, "%06d", n));
    }

    /** Puts the store back in a clean state after a job that was killed mid-commit or mid-compaction. */
    public void recover() {
        try {
            Path replaced = replaced();
            if (fs.exists(replaced)) {
                for (FileStatus s : fs.listStatus(replaced)) {
                    Path live = new Path(root, s.getPath().getName());
                    if (fs.exists(live)) {
                        fs.delete(s.getPath(), true); // the rewritten commit is in place: the old copy is garbage
                    } else {
                        fs.rename(s.getPath(), live); // killed between the two renames: put the original back
                        LOG.warn("kitty: restored {} after an interrupted compaction", live);
                    }
                }
                fs.delete(replaced, true);
            }
            // Earlier versions staged under the output itself.
            for (Path staging : List.of(staging(), new Path(root, "_staging"))) {
                if (fs.exists(staging)) {
                    LOG.warn("kitty: removing uncommitted output of an interrupted run under {}", staging);
                    fs.delete(staging, true);
                }
            }
            if (fs.exists(work) && fs.listStatus(work).length == 0) {
                fs.delete(work, true);
            }
        } catch (IOException e) {
            throw new InputException("cannot recover output " + root + ": " + e.getMessage(), e);
        }
    }

    /** Every committed row, with its commit number (null when the output has no commit yet). */
    public Dataset<Row> all() {
        if (isEmpty()) {
            return null;
        }
        return spark.read().option("basePath", root.toString()).parquet(root.toString());
    }

    /** The newest version of each row (by id and occurrence), or null when nothing is committed. */
    public Dataset<Row> latest() {
        Dataset<Row> all = all();
        if (all == null) {
            return null;
        }
        return all.withColumn("_kitty_rank", functions.row_number().over(Window
                        .partitionBy(functions.col(idColumn), functions.col(OutputSchema.ID_OCCURRENCE))
                        .orderBy(functions.col(OutputSchema.COMMIT).desc())))
                .where("_kitty_rank = 1").drop("_kitty_rank");
    }

    /** Writes rows as one new commit and makes it visible atomically; returns its number. */
    public int commit(Dataset<Row> rows) {
        List<Integer> existing = commits();
        int n = existing.isEmpty() ? 1 : existing.get(existing.size() - 1) + 1;
        Path staged = new Path(staging(), commitDir(n).getName());
        rows.write().mode(SaveMode.Overwrite).parquet(staged.toString());
        try {
            fs.mkdirs(root);
            if (!fs.exists(new Path(root, MARKER))) {
                writeText(MARKER, "{\"format\": \"kitty-spark output\", \"version\": 1, \"id_column\": \""
                        + idColumn.replace("\"", "\\\"") + "\", \"read\": \"docs/output.md\"}\n");
            }
            if (!fs.rename(staged, commitDir(n))) {
                throw new IllegalStateException("rename " + staged + " -> " + commitDir(n) + " failed");
            }
            fs.delete(work, true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot commit " + commitDir(n) + ": " + e.getMessage(), e);
        }
        return n;
    }

    /** Rewrites older commits that hold rows superseded by newer commits; returns how many rows it dropped. */
    public long compact() {
        Dataset<Row> all = all();
        if (all == null) {
            return 0;
        }
        Column key = functions.concat_ws("#", functions.coalesce(functions.col(idColumn), functions.lit("\u0000null")),
                functions.col(OutputSchema.ID_OCCURRENCE).cast("string"));
        Dataset<Row> ranked = all.select(key.as("_k"), functions.col(OutputSchema.COMMIT))
                .withColumn("_r", functions.row_number().over(Window.partitionBy("_k").orderBy(functions.col(OutputSchema.COMMIT).desc())));
        List<Row> stale = ranked.where("_r > 1").select(OutputSchema.COMMIT).distinct().collectAsList();
        long dropped = 0;
        for (Row r : stale) {
            int c = r.getInt(0);
            Dataset<Row> newest = ranked.where("_r = 1").select("_k", OutputSchema.COMMIT);
            Dataset<Row> rows = spark.read().parquet(commitDir(c).toString());
            Dataset<Row> kept = rows.withColumn("_k", key)
                    .join(newest.where(functions.col(OutputSchema.COMMIT).equalTo(c)).select("_k"), "_k")
                    .drop("_k").select(rows.columns()[0], java.util.Arrays.copyOfRange(rows.columns(), 1, rows.columns().length));
            long before = rows.count();
            Path staged = new Path(staging(), commitDir(c).getName());
            kept.write().mode(SaveMode.Overwrite).parquet(staged.toString());
            long after = spark.read().parquet(staged.toString()).count();
            swapIn(staged, commitDir(c), after == 0);
            dropped += before - after;
        }
        return dropped;
    }

    private void swapIn(Path staged, Path live, boolean empty) {
        try {
            Path replaced = new Path(replaced(), live.getName());
            fs.mkdirs(replaced.getParent());
            fs.rename(live, replaced);
            if (!empty) {
                fs.rename(staged, live);
            }
            fs.delete(work, true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot rewrite " + live + ": " + e.getMessage(), e);
        }
    }

    /** Writes a small text file next to the data (readers skip names starting with '_'). */
    public void writeText(String name, String text) {
        try (var out = fs.create(new Path(root, name), true)) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + name + " under " + root + ": " + e.getMessage(), e);
        }
    }
}
