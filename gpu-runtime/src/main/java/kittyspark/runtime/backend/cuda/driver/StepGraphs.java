package kittyspark.runtime.backend.cuda.driver;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Work enqueued on the backend's stream, replayed as CUDA graphs: a decode step is ~200 kernel
 * launches and cuBLAS calls at ~15-25 us of host time each, longer than the GPU needs for the
 * whole step at small batches. The caller names what decides the work's launches (grid sizes,
 * argument values, device addresses) as a key; work with a key seen before is captured once
 * and then replayed by one launch. The first sighting runs plainly, so whatever is set up
 * lazily (kernel lookups, shared-memory limits) happens outside a capture, and a shape seen
 * once costs no capture.
 *
 * <p>What the work reads that is not in the key must live in device memory at addresses the
 * key fixes (the step's packed arrays, the KV pools): a replay reads their current contents.
 * If a capture fails (an API call that cannot be captured), graphs stay off for this stream
 * and the work runs plainly; the log says why, once.
 */
public final class StepGraphs implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepGraphs.class);
    /** Keys remembered as seen once; past this the memory starts over. */
    private static final int MAX_SEEN = 4096;

    /** The driver's part: capture enqueued work into a launchable graph, launch it, free it. */
    public interface Driver {
        /** Runs {@code work} under stream capture and instantiates what it enqueued; throws if it cannot be captured. */
        Object capture(Runnable work);

        void launch(Object graph);

        void destroy(Object graph);
    }

    /** The CUDA driver API on {@code stream} (thread-local capture: other threads' CUDA calls are unaffected). */
    public static Driver cuda(CUstream stream) {
        return new Driver() {
            @Override
            public Object capture(Runnable work) {
                CUgraph graph = new CUgraph();
                JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
                try {
                    work.run();
                } finally {
                    JCudaDriver.cuStreamEndCapture(stream, graph);
                }
                try {
                    CUgraphExec exec = new CUgraphExec();
                    JCudaDriver.cuGraphInstantiate(exec, graph, 0);
                    return exec;
                } finally {
                    JCudaDriver.cuGraphDestroy(graph);
                }
            }

            @Override
            public void launch(Object graph) {
                JCudaDriver.cuGraphLaunch((CUgraphExec) graph, stream);
            }

            @Override
            public void destroy(Object graph) {
                JCudaDriver.cuGraphExecDestroy((CUgraphExec) graph);
            }
        };
    }

    private record Entry(Object graph, long kernels) {
    }

    private final Driver driver;
    private final Kernels.Counter kernels;
    private final int capacity;
    private final Map<Object, Entry> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private final Set<Object> seen = new HashSet<>();
    private boolean off;
    private long captures;
    private long replays;

    /**
     * @param kernels  the launch counter that replays add their captured kernels to
     * @param capacity graphs kept at once; the least recently replayed one goes first
     */
    public StepGraphs(Driver driver, Kernels.Counter kernels, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("graph capacity must be positive, got " + capacity);
        }
        this.driver = driver;
        this.kernels = kernels;
        this.capacity = capacity;
    }

    /** Enqueues {@code work}: replayed when {@code key} has a graph, captured at its second sighting, else run as is. */
    public void run(Object key, Runnable work) {
        if (off || key == null) {
            work.run();
            return;
        }
        Entry e = graphs.get(key);
        if (e == null && seen.add(key)) {
            if (seen.size() > MAX_SEEN) {
                seen.clear();
            }
            work.run();
            return;
        }
        if (e == null) {
            e = capture(key, work);
            if (e == null) {
                work.run();
                return;
            }
        } else {
            kernels.add(e.kernels());
            replays++;
        }
        driver.launch(e.graph());
    }

    private Entry capture(Object key, Runnable work) {
        long before = kernels.count();
        try {
            Object graph = driver.capture(work);
            Entry e = new Entry(graph, kernels.count() - before);
            graphs.put(key, e);
            captures++;
            evictBeyondCapacity();
            return e;
        } catch (RuntimeException ex) {
            off = true;
            LOG.warn("CUDA graphs are off for this engine: capturing a step failed ({}); every kernel is launched from the host",
                    ex.toString());
            kernels.add(before - kernels.count());  // the failed capture ran nothing
            return null;
        }
    }

    private void evictBeyondCapacity() {
        Iterator<Map.Entry<Object, Entry>> it = graphs.entrySet().iterator();
        while (graphs.size() > capacity && it.hasNext()) {
            driver.destroy(it.next().getValue().graph());
            it.remove();
        }
    }

    /** Graphs captured so far. */
    public long captures() {
        return captures;
    }

    /** Replays so far (a capture's own first launch not counted). */
    public long replays() {
        return replays;
    }

    /** Graphs held now. */
    public int held() {
        return graphs.size();
    }

    /** Whether a failed capture turned graphs off. */
    public boolean off() {
        return off;
    }

    @Override
    public void close() {
        for (Entry e : graphs.values()) {
            driver.destroy(e.graph());
        }
        graphs.clear();
    }
}
