package kittyspark.runtime.backend.cuda.driver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Device time per kernel name over the launches of a stretch of work: a CUDA event pair on the
 * stream around each launch (or each named group of launches, such as one GEMM through cuBLAS).
 * For benchmarks only: the events serialise nothing on the device but cost host time per
 * launch, so steps are profiled apart from the timed ones and never as CUDA graphs.
 */
public final class LaunchProfile {
    /** Device milliseconds and launches of one name. */
    public record Entry(String name, double ms, int launches) {
    }

    private record Span(String name, CUevent start, CUevent end) {
    }

    private final CUstream stream;
    private final List<Span> spans = new ArrayList<>();
    private String open;
    private CUevent openStart;
    private int depth;

    public LaunchProfile(CUstream stream) {
        this.stream = stream;
    }

    /** Starts a span; a span begun inside another belongs to the outer one. */
    public void begin(String name) {
        if (depth++ > 0) {
            return;
        }
        open = name;
        openStart = event();
        JCudaDriver.cuEventRecord(openStart, stream);
    }

    public void end() {
        if (--depth > 0) {
            return;
        }
        CUevent e = event();
        JCudaDriver.cuEventRecord(e, stream);
        spans.add(new Span(open, openStart, e));
        open = null;
    }

    /** Waits for the work, sums each name's spans in order of first appearance and frees the events. */
    public List<Entry> finish() {
        Map<String, double[]> by = new LinkedHashMap<>();
        if (!spans.isEmpty()) {
            JCudaDriver.cuEventSynchronize(spans.get(spans.size() - 1).end());
        }
        float[] ms = new float[1];
        for (Span s : spans) {
            JCudaDriver.cuEventElapsedTime(ms, s.start(), s.end());
            double[] acc = by.computeIfAbsent(s.name(), n -> new double[2]);
            acc[0] += ms[0];
            acc[1]++;
            JCudaDriver.cuEventDestroy(s.start());
            JCudaDriver.cuEventDestroy(s.end());
        }
        spans.clear();
        List<Entry> out = new ArrayList<>();
        by.forEach((n, a) -> out.add(new Entry(n, a[0], (int) a[1])));
        return out;
    }

    private static CUevent event() {
        CUevent e = new CUevent();
        JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DEFAULT);
        return e;
    }
}
