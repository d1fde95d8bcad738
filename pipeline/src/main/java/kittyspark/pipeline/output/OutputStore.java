package kittyspark.pipeline.output;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import kittyspark.pipeline.ColumnNames;
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
 * its old version. The newest commit wins ({@link #latest}); at the end of every run the older
 * commits that hold superseded rows are rewritten without them ({@link #compact}), by swapping
 * a filtered copy in through the work directory's {@code replaced/}. {@link #recover} undoes or finishes a swap
 * that a crash interrupted, and the run's own compaction then drops what is still superseded.
 * So a reader that uses plain {@code spark.read.parquet(OUT)} sees each row exactly once
 * whenever no job is running, and {@link #latest} is exact at any time.
 *
 * <p>Writes need the {@link OutputLock} ({@link #lock}): one job at a time per output. Every
 * read lists the files afresh (Spark keeps a file listing for the life of a DataFrame, and a
 * compaction deletes files), so no DataFrame outlives a swap.
 */
public final class OutputStore {
    private static final Logger LOG = LoggerFactory.getLogger(OutputStore.class);
    private static final String PREFIX = OutputSchema.COMMIT + "=";
    /** Where earlier versions staged, under the output itself: still cleaned up. */
    private static final String LEGACY_STAGING = "_staging";
    private static final String LEGACY_REPLACED = "_replaced";
    /** Written with the first commit: what makes a directory recognisably a kitty-spark output. */
    public static final String MARKER = "_kitty_output.json";
    /** Names a kitty-spark output holds besides its commits. */
    private static final java.util.Set<String> OWN_FILES = java.util.Set.of(MARKER, "_kitty_summary.json", "_kitty_runs",
            LEGACY_STAGING, LEGACY_REPLACED, "_SUCCESS", OutputLock.FILE);

    private final SparkSession spark;
    private final Path root;
    private final FileSystem fs;
    private final String idColumn;
    private final WriteStep.Listener steps;
    private final Path work;
    private OutputLock lock;

    public OutputStore(SparkSession spark, String output, String idColumn, WriteStep.Listener steps) {
        this.spark = spark;
        this.idColumn = idColumn;
        this.steps = steps;
        try {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
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
            } else if (!OWN_FILES.contains(name) && !name.startsWith(OutputLock.FILE + ".")) {
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
    private Path staging() {
        return new Path(work, "staging");
    }

    /** Where compaction parks a commit while its filtered copy takes its place. */
    private Path replaced() {
        return new Path(work, "replaced");
    }

    /** The staging directory as a URI string (for tests and messages). */
    public String stagingDir() {
        return staging().toString();
    }

    /** Whether the output directory exists yet. */
    public boolean exists() {
        return exists(root);
    }

    public OutputStore(SparkSession spark, String output, String idColumn) {
        this(spark, output, idColumn, WriteStep.Listener.NONE);
    }

    public String path() {
        return root.toString();
    }

    /**
     * Takes the output for this job; close the lock when done.
     *
     * @throws OutputLock.Unwritable when the output cannot be written at all
     * @throws InputException        when another job holds it
     */
    public OutputLock lock(Duration staleAfter) {
        lock = OutputLock.acquire(fs, root, staleAfter);
        return lock;
    }

    private void checkLock() {
        if (lock == null) {
            throw new IllegalStateException("writing " + root + " needs the output lock");
        }
        lock.verify();
    }

    /** Committed commit numbers, ascending. */
    public List<Integer> commits() {
        List<Integer> out = new ArrayList<>();
        for (FileStatus s : list(root)) {
            String name = s.getPath().getName();
            if (s.isDirectory() && name.startsWith(PREFIX)) {
                out.add(Integer.parseInt(name.substring(PREFIX.length())));
            }
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

    /** Whether a killed job left a staged commit or an unfinished swap that {@link #recover} must clear. */
    public boolean needsRecovery() {
        return exists(staging()) || exists(replaced()) || exists(new Path(root, LEGACY_STAGING))
                || exists(new Path(root, LEGACY_REPLACED));
    }

    /** Puts the store back in a clean state after a job that was killed mid-commit or mid-compaction. */
    public void recover() {
        checkLock();
        try {
            for (Path replaced : List.of(replaced(), new Path(root, LEGACY_REPLACED))) {
                if (fs.exists(replaced)) {
                    for (FileStatus s : fs.listStatus(replaced)) {
                        Path live = new Path(root, s.getPath().getName());
                        if (fs.exists(live)) {
                            fs.delete(s.getPath(), true); // the filtered copy is in place: the original is garbage
                        } else {
                            // Killed before the filtered copy went in: restore the original. Its superseded
                            // rows are visible again until this run's compaction drops them.
                            if (!fs.rename(s.getPath(), live)) {
                                throw new IOException("rename " + s.getPath() + " -> " + live + " failed");
                            }
                            LOG.warn("kitty: restored {} after an interrupted compaction", live);
                        }
                    }
                    fs.delete(replaced, true);
                }
            }
            for (Path staging : List.of(staging(), new Path(root, LEGACY_STAGING))) {
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
        return read(commits());
    }

    /** The rows of the given commits, from a fresh file listing; null when they hold no files. */
    private Dataset<Row> read(List<Integer> commits) {
        List<String> files = new ArrayList<>();
        for (int c : commits) {
            files.addAll(dataFiles(commitDir(c)));
        }
        if (files.isEmpty()) {
            return null;
        }
        return spark.read().option("basePath", root.toString()).parquet(files.toArray(String[]::new));
    }

    private List<String> dataFiles(Path dir) {
        List<String> out = new ArrayList<>();
        for (FileStatus s : list(dir)) {
            String name = s.getPath().getName();
            if (s.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
                out.add(s.getPath().toString());
            }
        }
        return out;
    }

    /** The newest version of each row (by id and occurrence), or null when nothing is committed. */
    public Dataset<Row> latest() {
        Dataset<Row> all = all();
        if (all == null) {
            return null;
        }
        String rank = ColumnNames.fresh(all.schema(), "_kitty_rank");
        return all.withColumn(rank, functions.row_number().over(Window
                        .partitionBy(ColumnNames.col(idColumn), ColumnNames.col(OutputSchema.ID_OCCURRENCE))
                        .orderBy(ColumnNames.col(OutputSchema.COMMIT).desc())))
                .where(ColumnNames.col(rank).equalTo(1)).drop(rank);
    }

    /** Writes rows as one new commit and makes it visible atomically; returns its number. */
    public int commit(Dataset<Row> rows) {
        checkLock();
        List<Integer> existing = commits();
        int n = existing.isEmpty() ? 1 : existing.get(existing.size() - 1) + 1;
        Path live = commitDir(n);
        Path staged = new Path(staging(), live.getName());
        rows.write().mode(SaveMode.Overwrite).parquet(staged.toString());
        steps.reached(WriteStep.COMMIT_STAGED, n);
        checkLock();
        try {
            fs.mkdirs(root);
            if (!fs.exists(new Path(root, MARKER))) {
                writeText(MARKER, "{\"format\": \"kitty-spark output\", \"version\": 1, \"id_column\": \""
                        + idColumn.replace("\"", "\\\"") + "\", \"read\": \"docs/output.md\"}\n");
            }
            if (fs.exists(live)) {
                // a rename onto an existing directory would nest one commit inside the other
                throw new IllegalStateException(live + " exists already: another writer is using the output");
            }
            if (!fs.rename(staged, live)) {
                throw new IllegalStateException("rename " + staged + " -> " + live + " failed");
            }
            steps.reached(WriteStep.COMMIT_PUBLISHED, n);
            fs.delete(work, true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot commit " + live + ": " + e.getMessage(), e);
        }
        return n;
    }

    /** Commits holding a row that a newer commit holds too, ascending. */
    public List<Integer> staleCommits() {
        Dataset<Row> all = all();
        if (all == null) {
            return List.of();
        }
        String newest = ColumnNames.fresh(all.schema(), "_kitty_newest");
        List<Integer> out = new ArrayList<>();
        for (Row r : all.select(ColumnNames.col(idColumn), ColumnNames.col(OutputSchema.ID_OCCURRENCE),
                        ColumnNames.col(OutputSchema.COMMIT))
                .withColumn(newest, functions.max(ColumnNames.col(OutputSchema.COMMIT)).over(Window
                        .partitionBy(ColumnNames.col(idColumn), ColumnNames.col(OutputSchema.ID_OCCURRENCE))))
                .where(ColumnNames.col(OutputSchema.COMMIT).lt(ColumnNames.col(newest)))
                .select(OutputSchema.COMMIT).distinct().collectAsList()) {
            out.add(r.getInt(0));
        }
        out.sort(null);
        return out;
    }

    /**
     * Rewrites every commit that holds rows superseded by newer commits without them; returns
     * how many rows it dropped. Each commit is read afresh when its turn comes (the commits
     * before it may have been swapped), and each swap can be cut short by a crash at any step.
     */
    public long compact() {
        checkLock();
        long dropped = 0;
        for (int c : staleCommits()) {
            List<Integer> newer = commits().stream().filter(x -> x > c).toList();
            Dataset<Row> rows = read(List.of(c));
            Dataset<Row> newerRows = read(newer);
            if (rows == null || newerRows == null) {
                continue;
            }
            String kId = ColumnNames.fresh(rows.schema(), "_kitty_newer_id");
            String kOcc = ColumnNames.fresh(rows.schema(), "_kitty_newer_occurrence");
            Dataset<Row> newerKeys = newerRows.select(ColumnNames.col(idColumn).as(kId),
                    ColumnNames.col(OutputSchema.ID_OCCURRENCE).as(kOcc));
            Column sameKey = rows.col(ColumnNames.quoted(idColumn)).eqNullSafe(newerKeys.col(kId))
                    .and(rows.col(ColumnNames.quoted(OutputSchema.ID_OCCURRENCE)).equalTo(newerKeys.col(kOcc)));
            // The commit directory carries the commit number; the written files must not.
            Dataset<Row> kept = rows.join(newerKeys, sameKey, "left_anti").drop(OutputSchema.COMMIT);
            long before = rows.count();
            Path live = commitDir(c);
            Path staged = new Path(staging(), live.getName());
            kept.write().mode(SaveMode.Overwrite).parquet(staged.toString());
            steps.reached(WriteStep.COMPACT_STAGED, c);
            List<String> stagedFiles = dataFiles(staged);
            long after = stagedFiles.isEmpty() ? 0 : spark.read().parquet(stagedFiles.toArray(String[]::new)).count();
            swapIn(c, staged, live, after == 0);
            dropped += before - after;
        }
        return dropped;
    }

    private void swapIn(int c, Path staged, Path live, boolean empty) {
        checkLock();
        try {
            Path replaced = new Path(replaced(), live.getName());
            fs.mkdirs(replaced.getParent());
            if (!fs.rename(live, replaced)) {
                throw new IOException("rename " + live + " -> " + replaced + " failed");
            }
            steps.reached(WriteStep.COMPACT_MOVED_ASIDE, c);
            if (!empty && !fs.rename(staged, live)) {
                throw new IOException("rename " + staged + " -> " + live + " failed");
            }
            steps.reached(WriteStep.COMPACT_SWAPPED, c);
            fs.delete(work, true);
            steps.reached(WriteStep.COMPACT_CLEANED, c);
        } catch (IOException e) {
            throw new IllegalStateException("cannot rewrite " + live + ": " + e.getMessage(), e);
        }
    }

    /** Writes a small text file next to the data (readers skip names starting with '_'). */
    public void writeText(String name, String text) {
        checkLock();
        try (var out = fs.create(new Path(root, name), true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + name + " under " + root + ": " + e.getMessage(), e);
        }
    }

    private List<FileStatus> list(Path dir) {
        try {
            return fs.exists(dir) ? List.of(fs.listStatus(dir)) : List.of();
        } catch (IOException e) {
            throw new InputException("cannot list output " + dir + ": " + e.getMessage(), e);
        }
    }

    private boolean exists(Path p) {
        try {
            return fs.exists(p);
        } catch (IOException e) {
            throw new InputException("cannot read output " + root + ": " + e.getMessage(), e);
        }
    }
}
