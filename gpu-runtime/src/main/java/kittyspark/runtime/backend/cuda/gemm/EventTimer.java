package kittyspark.runtime.backend.cuda.gemm;

import java.util.Arrays;
import java.util.function.IntConsumer;

import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;

/**
 * Device time per call of some stream work, with CUDA events around rounds of back-to-back
 * calls. Each round first puts a spin kernel (gemm_spin) on the stream and enqueues its calls
 * behind it, so the host's cost of enqueueing them (JNI, argument packing) is hidden, as it is
 * in a busy engine or a CUDA graph; a round whose enqueueing outlasted the spin is run again
 * with a longer one.
 */
public final class EventTimer implements AutoCloseable {
    private static final long MIN_SPIN_NS = 100_000;
    private static final long SPIN_NS_PER_CALL = 40_000;
    private static final int RETRIES = 3;

    private final Kernels kernels;
    private final CUstream stream;
    private final CUevent start = new CUevent();
    private final CUevent end = new CUevent();
    private boolean closed;

    public EventTimer(Kernels kernels, CUstream stream) {
        this.kernels = kernels;
        this.stream = stream;
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(end, 0);
    }

    /**
     * The median, over {@code rounds}, of the milliseconds per call in a round of back-to-back
     * calls; a round has as many calls as fill about {@code roundMillis} (1 to {@code maxCalls}).
     *
     * @param call the work, given the call's index within its round (e.g. to rotate weights)
     */
    public double millisPerCall(IntConsumer call, int rounds, double roundMillis, int maxCalls) {
        double single = round(call, 1, MIN_SPIN_NS).millisPerCall(); // also the warm-up
        int calls = (int) Math.max(1, Math.min(maxCalls, Math.ceil(roundMillis / Math.max(single, 1e-3))));
        long spin = MIN_SPIN_NS + SPIN_NS_PER_CALL * calls;
        double[] ms = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            Round t = round(call, calls, spin);
            for (int retry = 0; retry < RETRIES && t.enqueueNs() >= spin; retry++) {
                spin = 2 * t.enqueueNs(); // the device may have waited for the host: hold it longer
                t = round(call, calls, spin);
            }
            ms[r] = t.millisPerCall();
        }
        Arrays.sort(ms);
        return ms[rounds / 2];
    }

    private record Round(double millisPerCall, long enqueueNs) {
    }

    /** One round: spin, start event, {@code calls} calls, end event. */
    private Round round(IntConsumer call, int calls, long spinNs) {
        kernels.launch("gemm_spin", 1, 1, 1, 0, new KernelArgs().i64(spinNs));
        JCudaDriver.cuEventRecord(start, stream);
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            call.accept(i);
        }
        long enqueue = System.nanoTime() - t0;
        JCudaDriver.cuEventRecord(end, stream);
        JCudaDriver.cuEventSynchronize(end);
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, start, end);
        return new Round(ms[0] / calls, enqueue);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(end);
        }
    }
}
