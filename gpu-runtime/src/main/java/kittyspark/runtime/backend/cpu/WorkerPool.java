package kittyspark.runtime.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU backend's own threads. Never the common ForkJoinPool: inside a Spark executor that
 * pool belongs to everyone, and a model step would starve (or be starved by) other work.
 */
public final class WorkerPool implements AutoCloseable {
    /** A body that handles indices [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final AtomicInteger POOLS = new AtomicInteger();
    private final ForkJoinPool pool;
    private final int threads;

    public WorkerPool(int threads) {
        this.threads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        int id = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        this.pool = new ForkJoinPool(this.threads, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("kitty-cpu-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into chunks of at least {@code grain} indices, in this
     * pool, and waits. Nested calls from inside the pool fork into it rather than blocking it.
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.max(1, Math.min(threads * 4, (n + grain - 1) / Math.max(1, grain)));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        Split task = new Split(body, 0, n, (n + chunks - 1) / chunks);
        if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == pool) {
            task.invoke();
        } else {
            pool.invoke(task);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int from;
        private final int to;
        private final int chunk;

        Split(RangeBody body, int from, int to, int chunk) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (to - from <= chunk) {
                body.run(from, to);
                return;
            }
            int mid = from + ((to - from) / chunk / 2) * chunk;
            if (mid <= from) {
                mid = from + chunk;
            }
            invokeAll(new Split(body, from, mid, chunk), new Split(body, mid, to, chunk));
        }
    }
}
