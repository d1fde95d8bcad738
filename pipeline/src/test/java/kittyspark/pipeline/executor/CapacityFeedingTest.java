package kittyspark.pipeline.executor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import kittyspark.runtime.engine.EngineStats;
import kittyspark.runtime.engine.FinishReason;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several tasks share one engine through an {@link AdmissionGate}: the engine's running batch
 * stays at its capacity while rows remain (also across a task's partition tail), follows a
 * capacity that changes, memory stays bounded and every task gets its rows back in order.
 * The engine is a fake that steps every few milliseconds and records each step's batch.
 */
class CapacityFeedingTest {
    private static final KvSettings FP = KvSettings.parse("fp16");

    /** One step of the fake engine, as it admitted and ran. */
    record StepRecord(int active, int queued, int capacity, int unfinished) {
    }

    /** An engine that admits up to its (changeable) capacity each step; a request runs as many steps as its max new tokens. */
    static final class FakeEngine implements GenerationService {
        final int total;
        volatile int capacity;
        final List<StepRecord> steps = new CopyOnWriteArrayList<>();
        private final ArrayDeque<Object[]> queue = new ArrayDeque<>();
        private final List<Object[]> running = new ArrayList<>();
        private final AtomicInteger completed = new AtomicInteger();
        private final Thread loop;
        private volatile boolean closed;

        /** How long a step waits for submissions before it runs short. */
        private static final long GRACE_NANOS = 200_000_000L;

        FakeEngine(int capacity, int total) {
            this.capacity = capacity;
            this.total = total;
            this.loop = new Thread(this::run, "fake-engine");
            loop.setDaemon(true);
            loop.start();
        }

        @Override
        public synchronized CompletableFuture<GenerationResult> submit(GenerationRequest request) {
            CompletableFuture<GenerationResult> f = new CompletableFuture<>();
            queue.add(new Object[] {request, f, request.params().maxNewTokens()});
            notifyAll();
            return f;
        }

        private void run() {
            while (!closed) {
                List<Object[]> done = new ArrayList<>();
                synchronized (this) {
                    // A feeder thread the OS has not run yet is scheduling, not feeding: give it
                    // a moment to submit before a short step counts against the feeding.
                    long until = System.nanoTime() + GRACE_NANOS;
                    while (running.size() + queue.size() < Math.min(capacity, total - completed.get())
                            && System.nanoTime() < until) {
                        try {
                            wait(5);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    while (running.size() < capacity && !queue.isEmpty()) {
                        running.add(queue.poll());
                    }
                    if (!running.isEmpty()) {
                        steps.add(new StepRecord(running.size(), queue.size(), capacity, total - completed.get()));
                    }
                    for (Object[] s : running) {
                        s[2] = (int) s[2] - 1;
                        if ((int) s[2] == 0) {
                            done.add(s);
                        }
                    }
                    running.removeAll(done);
                }
                for (Object[] s : done) {
                    GenerationRequest r = (GenerationRequest) s[0];
                    completed.incrementAndGet();
                    ((CompletableFuture<GenerationResult>) s[1]).complete(new GenerationResult(r.id(), r.id(),
                            new int[r.params().maxNewTokens()], r.prompt().length, FinishReason.LENGTH, 0, 0, 0, 0, null));
                }
                try {
                    Thread.sleep(8);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        @Override
        public int capacity(GenerationRequest request) {
            return capacity;
        }

        @Override
        public int[] promptIds(String text, boolean renderedChat) {
            return new int[] {1};
        }

        @Override
        public int contextLimit() {
            return 1 << 20;
        }

        @Override
        public String modelName() {
            return "fake";
        }

        @Override
        public String device() {
            return "fake";
        }

        @Override
        public EngineStats stats() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String decode(int[] tokens) {
            return "";
        }

        @Override
        public CompletableFuture<FidelityScores> fidelity(int[] prompt, GenerationResult result, KvSettings kv) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
            closed = true;
            loop.interrupt();
        }
    }

    /** A row "task:index" whose request runs 2 to 9 steps; its output is its id. */
    private static RowWork<String> work(GenerationService engine, String id) {
        int steps = 2 + Math.floorMod(id.hashCode(), 8);
        GenerationRequest r = new GenerationRequest(id, new int[] {1, 2, 3}, SamplingParams.greedy(steps), FP);
        return RowWork.of(r, engine::submit, result -> result.join().completion());
    }

    private static List<String> rows(String task, int n) {
        return IntStream.range(0, n).mapToObj(i -> task + ":" + i).toList();
    }

    /** Runs one thread per task over its rows; returns each task's outputs in the order they came back. */
    private static List<List<String>> runTasks(FakeEngine engine, AdmissionGate gate, int maxHeld, List<List<String>> tasks,
                                               List<TaskFeed<String, String>> feeds) throws InterruptedException {
        List<List<String>> outs = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (List<String> rows : tasks) {
            List<String> out = new ArrayList<>();
            outs.add(out);
            TaskFeed<String, String> feed = new TaskFeed<>(rows.iterator(), maxHeld, gate, id -> work(engine, id));
            feeds.add(feed);
            Thread t = new Thread(() -> feed.forEachRemaining(out::add));
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        return outs;
    }

    @Test
    void sharedTasksKeepTheEngineAtCapacityWhileRowsRemainAndGetTheirRowsInOrder() throws Exception {
        int capacity = 8;
        List<List<String>> tasks = List.of(rows("a", 12), rows("b", 40), rows("c", 25));
        FakeEngine engine = new FakeEngine(capacity, 77);
        AdmissionGate gate = new AdmissionGate(engine::capacity);
        // A task may hold twice the gate's target: rows that finish behind a slower oldest row wait to be returned.
        int maxHeld = 2 * (capacity + 2);
        List<TaskFeed<String, String>> feeds = new ArrayList<>();
        try {
            List<List<String>> outs = runTasks(engine, gate, maxHeld, tasks, feeds);
            assertEquals(tasks, outs, "every task's rows come back complete and in input order");
        } finally {
            engine.close();
        }
        List<StepRecord> steps = engine.steps;
        assertTrue(steps.size() > 20, "steps " + steps.size());
        for (StepRecord s : steps) {
            // Task "a" ends long before the others: its tail must not leave the engine short.
            if (s.unfinished() >= capacity) {
                assertEquals(capacity, s.active(), "a step ran below capacity while rows remained: " + s + " in " + steps);
            }
            assertTrue(s.active() > 0);
        }
        assertTrue(gate.peakInEngine() <= gate.target(null), "rows in the engine " + gate.peakInEngine());
        for (TaskFeed<String, String> f : feeds) {
            assertTrue(f.peakHeld() <= maxHeld, "a task held " + f.peakHeld() + " rows, bound " + maxHeld);
        }
    }

    @Test
    void feedingFollowsACapacityThatChanges() throws Exception {
        List<List<String>> tasks = List.of(rows("a", 90), rows("b", 90));
        FakeEngine engine = new FakeEngine(4, 180);
        AdmissionGate gate = new AdmissionGate(engine::capacity);
        List<TaskFeed<String, String>> feeds = new ArrayList<>();
        Thread changer = new Thread(() -> {
            try {
                while (engine.steps.size() < 30) {
                    Thread.sleep(2);
                }
                engine.capacity = 16;
                while (engine.steps.size() < 60) {
                    Thread.sleep(2);
                }
                engine.capacity = 2;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        changer.start();
        try {
            List<List<String>> outs = runTasks(engine, gate, 40, tasks, feeds);
            assertEquals(tasks, outs);
        } finally {
            engine.close();
            changer.join();
        }
        List<StepRecord> steps = engine.steps;
        assertTrue(steps.stream().anyMatch(s -> s.capacity() == 16 && s.active() == 16), "the grown capacity was filled");
        // After the shrink no task sends more: once the rows sent before it have been admitted, the engine
        // holds 2 and only the margin (2) waits, until the end; and it never runs below 2 while rows remain.
        int shrunk = -1;
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).capacity() == 2) {
                shrunk = i;
                break;
            }
        }
        assertTrue(shrunk > 0, "the capacity shrank during the run");
        int settled = -1;
        for (int i = shrunk; i < steps.size(); i++) {
            StepRecord s = steps.get(i);
            if (settled < 0 && s.active() + s.queued() <= 2 + 2) {
                settled = i;
            }
            if (settled >= 0) {
                assertTrue(s.active() + s.queued() <= 2 + 2, "a task sent more than the shrunk target: " + s);
            }
            if (s.unfinished() >= 2 && s.active() <= 2) {
                assertEquals(2, s.active(), "below the shrunk capacity while rows remained: " + s);
            }
        }
        assertTrue(settled > 0 && steps.get(settled).unfinished() > 10, "the load settled at the shrunk target while rows remained");
    }

    @Test
    void rowsWithoutARequestComeBackInPlaceWithoutTheEngine() {
        AdmissionGate gate = new AdmissionGate(r -> 1);
        List<Integer> input = IntStream.range(0, 50).boxed().toList();
        Iterator<Integer> feed = new TaskFeed<>(input.iterator(), 3, gate, i -> RowWork.done(() -> i * 2));
        List<Integer> out = new ArrayList<>();
        feed.forEachRemaining(out::add);
        assertEquals(IntStream.range(0, 50).map(i -> i * 2).boxed().toList(), out);
        assertEquals(0, gate.peakInEngine());
    }
}
