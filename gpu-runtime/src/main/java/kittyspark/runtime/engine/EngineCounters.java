package kittyspark.runtime.engine;

import java.util.concurrent.atomic.AtomicLong;

/** Running totals behind {@link EngineStats}; written by the scheduler, read by anyone. */
final class EngineCounters {
    private final AtomicLong requestsDone = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong decodeSteps = new AtomicLong();
    private final AtomicLong decodeRows = new AtomicLong();
    private final AtomicLong kvInUse = new AtomicLong();
    private final AtomicLong kvPeak = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong underfullSteps = new AtomicLong();
    private final AtomicLong busyNanos = new AtomicLong();
    private final AtomicLong firstRequestNanos = new AtomicLong(Long.MIN_VALUE);
    private final Clock clock;
    private volatile int active;
    private volatile int maxActive;
    private volatile int waiting;
    private volatile int admissible;
    private volatile long kvPool;
    private long kvReserved;

    /** The time source of busy and idle time (tests script it). */
    interface Clock {
        long nanoTime();
    }

    EngineCounters() {
        this(System::nanoTime);
    }

    EngineCounters(Clock clock) {
        this.clock = clock;
    }

    long now() {
        return clock.nanoTime();
    }

    /** A request arrived: idle time counts from the first one. */
    void submitted() {
        firstRequestNanos.compareAndSet(Long.MIN_VALUE, clock.nanoTime());
    }

    /**
     * One forward step of {@code batch} running sequences, when admission would have let
     * {@code admissibleBatch} run, that took {@code nanos}.
     */
    void step(int batch, int admissibleBatch, long nanos) {
        steps.incrementAndGet();
        if (EngineStats.underfull(batch, admissibleBatch)) {
            underfullSteps.incrementAndGet();
        }
        busyNanos.addAndGet(nanos);
        admissible = admissibleBatch;
    }

    void waiting(int n) {
        waiting = n;
    }

    void kvPool(long bytes) {
        kvPool = bytes;
    }

    void requestDone() {
        requestsDone.incrementAndGet();
    }

    void prompt(int n) {
        promptTokens.addAndGet(n);
    }

    void generated(int n) {
        generatedTokens.addAndGet(n);
    }

    void decodeStep(int rows) {
        decodeSteps.incrementAndGet();
        decodeRows.addAndGet(rows);
    }

    void active(int n) {
        active = n;
        if (n > maxActive) {
            maxActive = n;
        }
    }

    void kvInUse(long bytes) {
        kvInUse.set(bytes);
        kvPeak.accumulateAndGet(bytes, Math::max);
    }

    long kvReserved() {
        return kvReserved;
    }

    void reserve(long bytes) {
        kvReserved += bytes;
    }

    void release(long bytes) {
        kvReserved -= bytes;
    }

    EngineStats snapshot() {
        long first = firstRequestNanos.get();
        long busy = busyNanos.get();
        long idle = first == Long.MIN_VALUE ? 0 : Math.max(0, clock.nanoTime() - first - busy);
        return new EngineStats(requestsDone.get(), promptTokens.get(), generatedTokens.get(), active, maxActive,
                decodeSteps.get(), decodeRows.get(), kvInUse.get(), kvPeak.get(), waiting, admissible, kvPool,
                steps.get(), underfullSteps.get(), busy, idle);
    }
}
