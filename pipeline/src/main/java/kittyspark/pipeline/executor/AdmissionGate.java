package kittyspark.pipeline.executor;

import kittyspark.runtime.engine.GenerationRequest;

/**
 * The rows every task of an executor has in one shared engine, kept at what the engine can run
 * plus a waiting margin: admission then always finds a row queued the moment a sequence
 * finishes, whichever task it comes from, and no task's partition tail drains the engine while
 * another task still has rows. The engine's capacity is asked for each row's shape (its prompt
 * length, max new tokens and KV mode), so a changing capacity is followed as rows go in.
 * Thread-safe; tasks wait on it for room or for their own rows to finish.
 */
public final class AdmissionGate {
    /** How many sequences of a request's shape the engine runs at once. */
    @FunctionalInterface
    public interface Capacity {
        int of(GenerationRequest request);
    }

    private final Capacity capacity;
    private int inEngine;
    private int peakInEngine;
    private long version;

    public AdmissionGate(Capacity capacity) {
        this.capacity = capacity;
    }

    /**
     * Rows to keep in the engine for requests like {@code r}: its capacity (at least one) plus a
     * quarter more (at least two) queued, so admission never waits on a task to send the next.
     */
    public int target(GenerationRequest r) {
        int cap = Math.max(1, capacity.of(r));
        return cap + Math.max(2, cap / 4);
    }

    /** Takes room for {@code r} in the engine if the engine is below its target; the caller submits it then. */
    public synchronized boolean tryAdmit(GenerationRequest r) {
        if (inEngine >= target(r)) {
            return false;
        }
        inEngine++;
        peakInEngine = Math.max(peakInEngine, inEngine);
        changed();
        return true;
    }

    /** A row admitted through this gate left the engine (finished, failed or refused). */
    public synchronized void finished() {
        inEngine--;
        changed();
    }

    /** Counts every change, so a waiting task sees whether something happened since it looked. */
    public synchronized long version() {
        return version;
    }

    /** Waits until something changed since {@code seen}, or {@code maxMillis} passed (a capacity can change unseen). */
    public synchronized void await(long seen, long maxMillis) throws InterruptedException {
        long until = System.currentTimeMillis() + maxMillis;
        while (version == seen) {
            long left = until - System.currentTimeMillis();
            if (left <= 0) {
                return;
            }
            wait(left);
        }
    }

    public synchronized int inEngine() {
        return inEngine;
    }

    public synchronized int peakInEngine() {
        return peakInEngine;
    }

    private void changed() {
        version++;
        notifyAll();
    }
}
