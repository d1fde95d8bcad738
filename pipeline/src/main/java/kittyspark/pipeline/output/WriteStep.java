package kittyspark.pipeline.output;

/**
 * The steps of the output's write protocol. A crash can stop a job after any of them; the store
 * is built so that the next run, finding what each leaves behind, ends with every row once.
 * {@link Listener} is told of each step as it completes: the seam where tests stop a job.
 */
public enum WriteStep {
    /** A commit's rows are written under {@code _staging/}, not yet visible. */
    COMMIT_STAGED,
    /** The commit is renamed into place: its rows are visible. */
    COMMIT_PUBLISHED,
    /** Compaction wrote a commit's kept rows under {@code _staging/}. */
    COMPACT_STAGED,
    /** The commit being compacted is moved to {@code _replaced/}: its rows are invisible for a moment. */
    COMPACT_MOVED_ASIDE,
    /** The filtered copy is in the commit's place; the original still sits in {@code _replaced/}. */
    COMPACT_SWAPPED,
    /** {@code _replaced/} and {@code _staging/} are gone: one commit is compacted. */
    COMPACT_CLEANED;

    @FunctionalInterface
    public interface Listener {
        Listener NONE = (step, commit) -> {
        };

        void reached(WriteStep step, int commit);
    }
}
