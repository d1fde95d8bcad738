package kittyspark.jobs.generate;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.spark.SparkContext;

/**
 * Watches a cluster run on the driver: when work is waiting and no executor has been granted
 * for {@code patience}, says once what each executor asks for and where each figure was set,
 * so "Initial job has not accepted any resources" comes with the means to fix it.
 */
public final class ExecutorWait implements AutoCloseable {
    private final ScheduledExecutorService timer;

    private ExecutorWait(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /** Starts watching (nothing to watch in local mode, where the driver runs the tasks). */
    public static ExecutorWait start(SparkContext sc, SparkSettings settings, Duration patience, PrintStream out) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kitty-executor-wait");
            t.setDaemon(true);
            return t;
        });
        if (!settings.local()) {
            timer.scheduleWithFixedDelay(new Check(sc, settings, patience, out), 1, 1, TimeUnit.SECONDS);
        }
        return new ExecutorWait(timer);
    }

    /** The message, given how long the job has waited. */
    public static String message(SparkSettings settings, Duration waited) {
        StringBuilder b = new StringBuilder();
        b.append("kitty: no executor has been granted for ").append(waited.toSeconds())
                .append(" s while work is waiting. Each executor asks for:\n");
        for (String r : settings.resourceRequest()) {
            b.append("  ").append(r).append('\n');
        }
        b.append("  A worker must have that much free (the master's web UI lists free cores, memory and GPUs).")
                .append(" Lower it with spark-submit --executor-cores / --executor-memory /")
                .append(" --conf spark.executor.resource.gpu.amount=...: spark-submit's settings win over the job's.");
        return b.toString();
    }

    private static final class Check implements Runnable {
        private final SparkContext sc;
        private final SparkSettings settings;
        private final Duration patience;
        private final PrintStream out;
        private long waitingSince = -1;
        private boolean told;

        Check(SparkContext sc, SparkSettings settings, Duration patience, PrintStream out) {
            this.sc = sc;
            this.settings = settings;
            this.patience = patience;
            this.out = out;
        }

        @Override
        public void run() {
            if (sc.isStopped()) {
                return;
            }
            boolean waiting = sc.statusTracker().getActiveStageIds().length > 0;
            boolean noExecutors = sc.statusTracker().getExecutorInfos().length <= 1; // the driver is listed too
            long now = System.nanoTime();
            if (!(waiting && noExecutors)) {
                waitingSince = -1;
                told = false;
                return;
            }
            if (waitingSince < 0) {
                waitingSince = now;
            }
            Duration waited = Duration.ofNanos(now - waitingSince);
            if (!told && waited.compareTo(patience) >= 0) {
                told = true;
                out.println(message(settings, waited));
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
