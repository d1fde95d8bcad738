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
    private volatile int active;
    private volatile int maxActive;
    private long kvReserved;

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
        return new EngineStats(requestsDone.get(), promptTokens.get(), generatedTokens.get(), active, maxActive,
                decodeSteps.get(), decodeRows.get(), kvInUse.get(), kvPeak.get());
    }
}
