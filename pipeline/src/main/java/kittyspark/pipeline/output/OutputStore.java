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
 * {@code spark.read.parquet(OUT)} reads every row (with a {@code kitty_commit} column).
 * A commit is written by Spark's Parquet writer into {@code OUT/_staging/} (ignored by readers,
 * like every name starting with '_') and then renamed into place: one directory rename, atomic
 * on HDFS and local file systems. A killed job leaves at most a staging directory, which the
 * next run deletes; every commit that finished is kept and its rows are not redone.
 *
 * <p>A regenerated row (changed fingerprint, or --retry-errors) lands in a newer commit than
 * its old version. The newest commit wins ({@link #latest}); at the end of the run the older
 * commits that hold superseded rows are rewritten without them ({@link #compact}), by
 * swapping a filtered copy in through {@code OUT/_replaced/}. {@link #recover} finishes a swap
 * that a crash interrupted. So a reader that uses plain {@code spark.read.parquet(OUT)} sees
 * each row exactly once whenever no job is running, and {@link #latest} is exact at any time.
 */
public final class OutputStore {
    private static final Logger LOG = LoggerFactory.getLogger(OutputStore.class);
    private static final String PREFIX = OutputSchema.COMMIT + "=";

    private final SparkSession spark;
    private final Path root;
    private final FileSystem fs;
    private final String idColumn;

    public OutputStore(SparkSession spark, String output, String idColumn) {
        this.spark = spark;
        this.root = new Path(output);
        this.idColumn = idColumn;
        try {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            this.fs = root.getFileSystem(conf);
            if (fs.exists(root) && !fs.getFileStatus(root).isDirectory()) {
                throw new InputException("output " + output + " is a file; give a directory for the output dataset");
            }
        } catch (IOException e) {
            throw new InputException("cannot open output " + output + ": " + e.getMessage(), e);
        }
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

    public boolean isEmpty() {
        return commits().isEmpty();
    }

    private Path commitDir(int n) {
        return new Path(root, PREFIX + String.format(Locale.ROOT, "%06d", n));
    }

    /** Puts the store back in a clean state after a job that was killed mid-commit or mid-compaction. */
    public void recover() {
        try {
            Path replaced = new Path(root, "_replaced");
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
            Path staging = new Path(root, "_staging");
            if (fs.exists(staging)) {
                LOG.warn("kitty: removing uncommitted output of an interrupted run under {}", staging);
                fs.delete(staging, true);
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
        Path staged = new Path(new Path(root, "_staging"), commitDir(n).getName());
        rows.write().mode(SaveMode.Overwrite).parquet(staged.toString());
        try {
            fs.mkdirs(root);
            if (!fs.rename(staged, commitDir(n))) {
                throw new IllegalStateException("rename " + staged + " -> " + commitDir(n) + " failed");
            }
            fs.delete(new Path(root, "_staging"), true);
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
            Path staged = new Path(new Path(root, "_staging"), commitDir(c).getName());
            kept.write().mode(SaveMode.Overwrite).parquet(staged.toString());
            long after = spark.read().parquet(staged.toString()).count();
            swapIn(staged, commitDir(c), after == 0);
            dropped += before - after;
        }
        return dropped;
    }

    private void swapIn(Path staged, Path live, boolean empty) {
        try {
            Path replaced = new Path(new Path(root, "_replaced"), live.getName());
            fs.mkdirs(replaced.getParent());
            fs.rename(live, replaced);
            if (!empty) {
                fs.rename(staged, live);
            }
            fs.delete(new Path(root, "_replaced"), true);
            fs.delete(new Path(root, "_staging"), true);
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
