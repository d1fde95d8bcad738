package kittyspark.pipeline.executor;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Streams a partition through asynchronous work: keeps up to {@code maxInFlight} inputs
 * started ahead of the consumer and yields their results in input order. So the engine sees
 * many sequences of this task at once (it can batch them), while memory holds at most
 * {@code maxInFlight} pending rows however large the partition is.
 *
 * @param <I> input element
 * @param <O> result element
 */
public final class BoundedInOrder<I, O> implements Iterator<O> {
    private final Iterator<I> input;
    private final int maxInFlight;
    private final Function<I, Supplier<O>> start;
    private final ArrayDeque<Supplier<O>> inFlight = new ArrayDeque<>();
    private int peakInFlight;

    /**
     * @param start begins the work for one input and returns a handle whose {@code get()}
     *              waits for and returns its result
     */
    public BoundedInOrder(Iterator<I> input, int maxInFlight, Function<I, Supplier<O>> start) {
        if (maxInFlight <= 0) {
            throw new IllegalArgumentException("maxInFlight must be > 0");
        }
        this.input = input;
        this.maxInFlight = maxInFlight;
        this.start = start;
    }

    private void fill() {
        while (inFlight.size() < maxInFlight && input.hasNext()) {
            inFlight.addLast(start.apply(input.next()));
            peakInFlight = Math.max(peakInFlight, inFlight.size());
        }
    }

    @Override
    public boolean hasNext() {
        fill();
        return !inFlight.isEmpty();
    }

    @Override
    public O next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return inFlight.removeFirst().get();
    }

    /** Most inputs started and not yet consumed at any time (for tests and metrics). */
    public int peakInFlight() {
        return peakInFlight;
    }
}
