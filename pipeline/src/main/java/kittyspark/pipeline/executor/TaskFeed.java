package kittyspark.pipeline.executor;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import kittyspark.runtime.engine.GenerationResult;

/**
 * One task's rows through the executor's shared engine, in input order. The task sends rows
 * while the {@link AdmissionGate} it shares with the executor's other tasks has room (so the
 * engine's load follows its capacity, not a fixed number per task), and holds at most
 * {@code maxHeld} rows sent and not yet returned (memory stays bounded however large the
 * partition). While its oldest row is still running it keeps sending, so that its rows fill
 * what other tasks' finished rows freed.
 *
 * @param <I> input row
 * @param <O> output row
 */
public final class TaskFeed<I, O> implements Iterator<O> {
    /** Longest wait before the gate is asked again: a capacity can grow without a row finishing. */
    private static final long RECHECK_MILLIS = 50;

    private final Iterator<I> input;
    private final int maxHeld;
    private final AdmissionGate gate;
    private final Function<I, RowWork<O>> prepare;
    private final ArrayDeque<Slot<O>> held = new ArrayDeque<>();
    private RowWork<O> staged;
    private int peakHeld;

    private record Slot<O>(RowWork<O> work, CompletableFuture<GenerationResult> result) {
        boolean done() {
            return result == null || result.isDone();
        }
    }

    public TaskFeed(Iterator<I> input, int maxHeld, AdmissionGate gate, Function<I, RowWork<O>> prepare) {
        if (maxHeld <= 0) {
            throw new IllegalArgumentException("maxHeld must be > 0");
        }
        this.input = input;
        this.maxHeld = maxHeld;
        this.gate = gate;
        this.prepare = prepare;
    }

    @Override
    public boolean hasNext() {
        return !held.isEmpty() || staged != null || input.hasNext();
    }

    @Override
    public O next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        try {
            while (true) {
                long seen = gate.version();
                Slot<O> head = held.peekFirst();
                if (head != null && head.done()) {
                    held.pollFirst();
                    return head.work().output(head.result());
                }
                if (send()) {
                    continue;
                }
                gate.await(seen, RECHECK_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the engine", e);
        }
    }

    /** Sends (or stages) the next row if there is room; whether anything moved. */
    private boolean send() {
        if (staged == null && held.size() < maxHeld && input.hasNext()) {
            staged = prepare.apply(input.next());
        }
        if (staged == null) {
            return false;
        }
        if (staged.request() == null) {
            held.addLast(new Slot<>(staged, null));
        } else if (gate.tryAdmit(staged.request())) {
            CompletableFuture<GenerationResult> f = staged.submit();
            f.whenComplete((r, e) -> gate.finished());
            held.addLast(new Slot<>(staged, f));
        } else {
            return false;
        }
        staged = null;
        peakHeld = Math.max(peakHeld, held.size());
        return true;
    }

    /** Most rows this task held at once (sent, not yet returned). */
    public int peakHeld() {
        return peakHeld;
    }
}
