package kittyspark.runtime.backend.cuda.driver;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepGraphsTest {
    /** Records what the driver was asked to do; "capturing" runs the work and remembers which work it was. */
    private static final class FakeDriver implements StepGraphs.Driver {
        final List<String> calls = new ArrayList<>();
        boolean failCapture;
        int next;

        @Override
        public Object capture(Runnable work) {
            work.run();
            if (failCapture) {
                throw new IllegalStateException("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED");
            }
            String g = "graph" + next++;
            calls.add("capture " + g);
            return g;
        }

        @Override
        public void launch(Object graph) {
            calls.add("launch " + graph);
        }

        @Override
        public void destroy(Object graph) {
            calls.add("destroy " + graph);
        }
    }

    private static final class Counter implements Kernels.Counter {
        long n;

        @Override
        public long count() {
            return n;
        }

        @Override
        public void add(long kernels) {
            n += kernels;
        }
    }

    /** A step of three kernels, and how often it was enqueued from the host. */
    private static final class Step implements Runnable {
        final Counter counter;
        int enqueued;

        Step(Counter counter) {
            this.counter = counter;
        }

        @Override
        public void run() {
            enqueued++;
            counter.n += 3;
        }
    }

    @Test
    void aShapeRunsPlainlyAtFirstIsCapturedAtItsSecondSightingAndReplayedAfter() {
        FakeDriver d = new FakeDriver();
        Counter c = new Counter();
        StepGraphs g = new StepGraphs(d, c, 4);
        Step step = new Step(c);
        for (int i = 0; i < 5; i++) {
            g.run("b64", step);
        }
        assertEquals(2, step.enqueued, "enqueued from the host once plainly and once under capture");
        assertEquals(List.of("capture graph0", "launch graph0", "launch graph0", "launch graph0", "launch graph0"), d.calls);
        assertEquals(1, g.captures());
        assertEquals(3, g.replays());
        assertEquals(15, c.n, "every step counts its three kernels, replayed or not");
    }

    @Test
    void workWithoutAKeyIsNeverCaptured() {
        FakeDriver d = new FakeDriver();
        Counter c = new Counter();
        StepGraphs g = new StepGraphs(d, c, 4);
        Step step = new Step(c);
        for (int i = 0; i < 3; i++) {
            g.run(null, step);
        }
        assertEquals(3, step.enqueued);
        assertTrue(d.calls.isEmpty());
    }

    @Test
    void theLeastRecentlyReplayedGraphIsFreedBeyondCapacity() {
        FakeDriver d = new FakeDriver();
        Counter c = new Counter();
        StepGraphs g = new StepGraphs(d, c, 2);
        Step step = new Step(c);
        for (String k : new String[] {"a", "a", "b", "b", "a", "c", "c"}) {
            g.run(k, step);
        }
        // a -> graph0, b -> graph1, a replayed (b now the eldest), c -> graph2 evicts b
        assertTrue(d.calls.contains("destroy graph1"), d.calls.toString());
        assertFalse(d.calls.contains("destroy graph0"), d.calls.toString());
        assertEquals(2, g.held());
        g.close();
        assertTrue(d.calls.contains("destroy graph0") && d.calls.contains("destroy graph2"), d.calls.toString());
        assertEquals(0, g.held());
    }

    @Test
    void aFailedCaptureTurnsGraphsOffAndTheStepStillRuns() {
        FakeDriver d = new FakeDriver();
        d.failCapture = true;
        Counter c = new Counter();
        StepGraphs g = new StepGraphs(d, c, 4);
        Step step = new Step(c);
        g.run("b1", step);
        g.run("b1", step);  // capture fails: the work is enqueued plainly instead
        g.run("b1", step);
        assertTrue(g.off());
        assertEquals(4, step.enqueued, "plain, failed capture, plain again, plain");
        assertEquals(9, c.n, "the failed capture's kernels are not counted: they never ran");
        assertTrue(d.calls.isEmpty(), d.calls.toString());
    }
}
