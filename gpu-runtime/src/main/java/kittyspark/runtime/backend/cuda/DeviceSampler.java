package kittyspark.runtime.backend.cuda;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.KernelArgs;
import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.sampling.SamplingParams;

/**
 * Sampling where the logits are (sampling.cu): greedy, temperature, top-k and top-p with a
 * counter-based Philox stream keyed by (seed, token index), so a seeded request draws the same
 * token whatever else shares its step. Only ids and log-probabilities cross to the host.
 */
final class DeviceSampler {
    static final int THREADS = 1024;

    private final CudaContext ctx;
    private final Kernels k;
    private final StepBuffers b;
    private final int vocab;

    DeviceSampler(CudaContext ctx, Kernels k, StepBuffers b, int vocab) {
        this.ctx = ctx;
        this.k = k;
        this.b = b;
        this.vocab = vocab;
    }

    /** Samples the first {@code specs.length} logits rows; waits for the result. */
    SampledToken[] sample(SampleSpec[] specs) {
        int n = specs.length;
        if (n == 0) {
            return new SampledToken[0];
        }
        float[] temperature = new float[n];
        int[] topK = new int[n];
        float[] topP = new float[n];
        long[] seed = new long[n];
        int[] tokenIndex = new int[n];
        for (int i = 0; i < n; i++) {
            SamplingParams p = specs[i].params();
            temperature[i] = (float) p.temperature();
            topK[i] = p.topK();
            topP[i] = (float) p.topP();
            seed[i] = p.seed();
            tokenIndex[i] = specs[i].tokenIndex();
        }
        ctx.synchronize(); // the step's own copy has left the staging buffer
        b.pack.reset();
        long shift = b.half();
        CUdeviceptr dT = b.pack.floats(temperature, n).withByteOffset(shift);
        CUdeviceptr dP = b.pack.floats(topP, n).withByteOffset(shift);
        CUdeviceptr dK = b.pack.ints(topK, n).withByteOffset(shift);
        CUdeviceptr dI = b.pack.ints(tokenIndex, n).withByteOffset(shift);
        CUdeviceptr dS = b.pack.longs(seed, n).withByteOffset(shift);
        if (b.pack.used() > shift) {
            throw new IllegalStateException("sampling parameters exceed their staging area");
        }
        b.hostParams.toDevice(b.params.withByteOffset(shift), b.pack.used(), ctx.stream());
        int rows = b.budget.logitRowsDev();
        CUdeviceptr lp = b.sampled.withByteOffset(4L * rows);
        k.launch("sample_rows", n, 1, THREADS, 0, new KernelArgs().ptr(b.logits).i32(vocab).ptr(dT).ptr(dK).ptr(dP).ptr(dS)
                .ptr(dI).ptr(b.sampled).ptr(lp));
        b.hostSampled.fromDevice(b.sampled, 8L * rows, ctx.stream());
        ctx.synchronize();
        IntBuffer toks = b.hostSampled.bytes().asIntBuffer();
        FloatBuffer lps = b.hostSampled.bytes().asFloatBuffer();
        SampledToken[] out = new SampledToken[n];
        for (int i = 0; i < n; i++) {
            out[i] = new SampledToken(toks.get(i), lps.get(rows + i));
        }
        return out;
    }
}
