package kittyspark.pipeline;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;

/**
 * The run's progress on the driver: rows done of the rows to generate, prompt and generated
 * tokens per second, and the time left at the rate so far. Finished tasks count through
 * {@link ProgressCounters}' accumulators; running tasks through the values their executors'
 * heartbeats carry (every {@code spark.executor.heartbeatInterval}, 10 s by default).
 */
public final class DriverProgress extends SparkListener implements AutoCloseable {
    private final SparkContext sc;
    private final ProgressCounters counters;
    private final long total;
    private final Consumer<String> out;
    private final long startNanos = System.nanoTime();
    /** Per running task: its latest heartbeat values, by accumulator id. */
    private final Map<Long, Map<Long, Long>> running = new ConcurrentHashMap<>();
    /** Tasks that ended: a heartbeat sent just before the end must not count them twice. */
    private final java.util.Set<Long> ended = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;

    private DriverProgress(SparkContext sc, ProgressCounters counters, long total, Duration interval, Consumer<String> out) {
        this.sc = sc;
        this.counters = counters;
        this.total = total;
        this.out = out;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kitty-driver-progress");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(1, interval.toMillis());
        timer.scheduleAtFixedRate(() -> out.accept(line()), ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Starts reporting every {@code interval} until closed; {@code total} is the number of rows to generate. */
    public static DriverProgress start(SparkContext sc, ProgressCounters counters, long total, Duration interval,
                                       Consumer<String> out) {
        DriverProgress p = new DriverProgress(sc, counters, total, interval, out);
        sc.addSparkListener(p);
        return p;
    }

    /** A snapshot: finished tasks' totals plus running tasks' latest values. */
    record Snapshot(long rows, long promptTokens, long generatedTokens) {
    }

    Snapshot snapshot() {
        long rows = counters.rows.value();
        long prompt = counters.promptTokens.value();
        long generated = counters.generatedTokens.value();
        for (Map<Long, Long> task : running.values()) {
            rows += task.getOrDefault(counters.rows.id(), 0L);
            prompt += task.getOrDefault(counters.promptTokens.id(), 0L);
            generated += task.getOrDefault(counters.generatedTokens.id(), 0L);
        }
        return new Snapshot(Math.min(rows, total), prompt, generated);
    }

    /** The progress line now. */
    public String line() {
        return format(snapshot(), total, (System.nanoTime() - startNanos) / 1e9);
    }

    static String format(Snapshot s, long total, double seconds) {
        double t = Math.max(1e-9, seconds);
        String eta;
        if (s.rows() >= total) {
            eta = "done";
        } else if (s.rows() == 0) {
            eta = "ETA unknown until the first rows finish";
        } else {
            eta = "ETA " + duration((total - s.rows()) * t / s.rows());
        }
        return String.format(Locale.ROOT, "kitty progress: %d/%d rows (%.1f%%), %.0f prompt tokens/s, %.0f generated tokens/s,"
                        + " %s elapsed, %s", s.rows(), total, total == 0 ? 100.0 : 100.0 * s.rows() / total,
                s.promptTokens() / t, s.generatedTokens() / t, duration(seconds), eta);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        scala.collection.Iterator<Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>>> it =
                update.accumUpdates().iterator();
        while (it.hasNext()) {
            Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t = it.next();
            long taskId = (Long) t._1();
            Map<Long, Long> values = new ConcurrentHashMap<>();
            scala.collection.Iterator<AccumulableInfo> infos = t._4().iterator();
            while (infos.hasNext()) {
                AccumulableInfo info = infos.next();
                if (isOurs(info.id()) && info.update().isDefined() && info.update().get() instanceof Long v) {
                    values.put(info.id(), v);
                }
            }
            if (!values.isEmpty() && !ended.contains(taskId)) {
                running.put(taskId, values);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        ended.add(end.taskInfo().taskId());
        running.remove(end.taskInfo().taskId()); // its values are in the accumulators now
    }

    private boolean isOurs(long id) {
        return id == counters.rows.id() || id == counters.promptTokens.id() || id == counters.generatedTokens.id();
    }

    /** Stops reporting and prints the final line. */
    @Override
    public void close() {
        timer.shutdownNow();
        sc.removeSparkListener(this);
        running.clear();
        out.accept(line());
    }
}
