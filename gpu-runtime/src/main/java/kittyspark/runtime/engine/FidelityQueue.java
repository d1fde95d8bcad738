package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.kv.KvSettings;

/**
 * Fidelity re-scoring waiting for the scheduler thread. Requests wait while the engine has
 * generation to do, until a batch is full or the oldest has waited {@code maxWaitSteps} steps,
 * and are then measured in batches ({@link KvFidelity#measureAll}): completions re-scored
 * together share their passes' forward steps instead of each running its own small ones.
 */
final class FidelityQueue {
    private record Pending(KvFidelity.Request request, CompletableFuture<KvFidelity.Result> result) {
    }

    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong queuedTokens = new AtomicLong();
    private final int maxRows;
    private final long maxTokens;
    private final int maxWaitSteps;
    /** Steps the engine has run while the oldest queued request waited. */
    private int waitedSteps;

    /**
     * @param maxRows   most completions re-scored together (their decode steps' batch)
     * @param maxTokens most tokens a batch feeds ({@link KvFidelity.Request#tokens}: prompt and
     *                  completion, once per pass that runs); a single longer request still runs, alone
     * @param maxWaitSteps most generation steps a request waits for others to join its batch
     */
    FidelityQueue(int maxRows, long maxTokens, int maxWaitSteps) {
        if (maxRows <= 0 || maxTokens <= 0 || maxWaitSteps < 0) {
            throw new IllegalArgumentException("a fidelity batch needs room for at least one row and one token");
        }
        this.maxRows = maxRows;
        this.maxTokens = maxTokens;
        this.maxWaitSteps = maxWaitSteps;
    }

    CompletableFuture<KvFidelity.Result> add(KvFidelity.Request request) {
        CompletableFuture<KvFidelity.Result> f = new CompletableFuture<>();
        queuedTokens.addAndGet(request.tokens());
        queue.add(new Pending(request, f));
        return f;
    }

    /** The engine ran a generation step (a waiting request has waited one more). */
    void stepped() {
        if (!queue.isEmpty()) {
            waitedSteps++;
        }
    }

    /**
     * Whether to measure now: something waits and the engine has no generation to do, or a
     * batch is full, or the oldest request has waited long enough.
     */
    boolean due(boolean engineIdle) {
        if (queue.isEmpty()) {
            return false;
        }
        return engineIdle || waitedSteps >= maxWaitSteps || queue.size() >= maxRows || queuedTokens.get() >= maxTokens;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Measures every request queued now, grouped by cache settings and cut to the batch limits. */
    void runQueued(Backend backend) {
        Map<KvSettings, List<Pending>> byKv = new LinkedHashMap<>();
        waitedSteps = 0;
        Pending p;
        while ((p = queue.poll()) != null) {
            queuedTokens.addAndGet(-p.request().tokens());
            byKv.computeIfAbsent(p.request().kv(), k -> new ArrayList<>()).add(p);
        }
        for (List<Pending> same : byKv.values()) {
            for (List<Pending> batch : cut(same, q -> q.request().tokens(), maxRows, maxTokens)) {
                run(backend, batch);
            }
        }
    }

    /**
     * {@code items} in order, cut into runs of at most {@code maxRows} items and
     * {@code maxTokens} tokens (an item alone over the token limit is a run of its own).
     */
    static <T> List<List<T>> cut(List<T> items, ToLongFunction<T> tokens, int maxRows, long maxTokens) {
        List<List<T>> out = new ArrayList<>();
        List<T> cur = new ArrayList<>();
        long sum = 0;
        for (T item : items) {
            long t = tokens.applyAsLong(item);
            if (!cur.isEmpty() && (cur.size() == maxRows || sum + t > maxTokens)) {
                out.add(cur);
                cur = new ArrayList<>();
                sum = 0;
            }
            cur.add(item);
            sum += t;
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    /** A batch that fails is measured again one request at a time, so a bad one fails only itself. */
    private static void run(Backend backend, List<Pending> batch) {
        if (batch.size() > 1) {
            try {
                List<KvFidelity.Result> results = KvFidelity.measureAll(backend, batch.stream().map(Pending::request).toList());
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).result().complete(results.get(i));
                }
                return;
            } catch (RuntimeException | Error e) {
                // fall through: one at a time
            }
        }
        for (Pending one : batch) {
            try {
                one.result().complete(KvFidelity.measureAll(backend, List.of(one.request())).get(0));
            } catch (RuntimeException | Error e) {
                one.result().completeExceptionally(e);
            }
        }
    }
}
