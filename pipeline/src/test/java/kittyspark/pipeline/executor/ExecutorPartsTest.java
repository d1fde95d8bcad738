package kittyspark.pipeline.executor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The pure parts of the executor side: in-order streaming and device choice. */
class ExecutorPartsTest {

    @Test
    void boundedInOrderYieldsResultsInInputOrderAndNeverStartsMoreThanTheBound() {
        AtomicInteger started = new AtomicInteger();
        List<Integer> input = IntStream.range(0, 100).boxed().toList();
        BoundedInOrder<Integer, Integer> it = new BoundedInOrder<>(input.iterator(), 7, i -> {
            started.incrementAndGet();
            return () -> i * 2;
        });
        List<Integer> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        assertEquals(IntStream.range(0, 100).map(i -> i * 2).boxed().toList(), out);
        assertEquals(7, it.peakInFlight());
        assertEquals(100, started.get());
    }

    @Test
    void deviceAutoUsesTheTaskGpuWithCpuFallbackAndTheCpuWithoutOne() {
        assertEquals(new DeviceChoice("cuda:1", "1", true), DeviceChoice.resolve("auto", "1"));
        assertEquals(new DeviceChoice("cpu", null, false), DeviceChoice.resolve("auto", null));
        assertEquals(new DeviceChoice("cuda:0", "0", false), DeviceChoice.resolve("cuda", "0"));
        assertEquals(new DeviceChoice("cpu", "0", false), DeviceChoice.resolve("cpu", "0"));
        assertThrows(IllegalStateException.class, () -> DeviceChoice.resolve("cuda", null));
        assertThrows(IllegalStateException.class, () -> DeviceChoice.resolve("auto", "GPU-abc"));
    }
}
