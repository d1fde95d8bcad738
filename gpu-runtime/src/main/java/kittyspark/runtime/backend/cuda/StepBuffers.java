package kittyspark.runtime.backend.cuda;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.DeviceArena;
import kittyspark.runtime.backend.cuda.driver.HostPack;
import kittyspark.runtime.backend.cuda.driver.PinnedBuffer;
import kittyspark.runtime.backend.cuda.gemm.Cublas;
import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * The step workspace on the device (residual stream, GEMM operands and outputs, attention
 * partials, logits, sampled tokens, split-K partials, cuBLAS workspace) and the pinned host buffers that feed it.
 * The parameter region is two halves: the step's arrays in the lower, sampling's in the upper.
 */
final class StepBuffers implements AutoCloseable {
    final CUdeviceptr x, ah, al, qkv, gu, partO, partMl, logits, sampled, splitK, cublasWorkspace, params;
    final PinnedBuffer hostParams, hostLogits, hostSampled;
    final HostPack pack;
    final DeviceBudget budget;

    StepBuffers(ModelConfig c, DeviceBudget b, DeviceArena arena) {
        long T = b.stepRows();
        long hidden = c.hiddenSize();
        long qw = (long) c.numHeads() * c.headDim();
        long kvw = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        long maxK = Math.max(hidden, Math.max(qw, inter));
        this.budget = b;
        this.x = arena.take(4 * T * hidden);
        this.ah = arena.take(2 * T * maxK);
        this.al = arena.take(2 * T * maxK);
        this.qkv = arena.take(4 * T * (qw + 2 * kvw));
        this.gu = arena.take(4 * T * 2 * inter);
        this.partO = arena.take(4L * b.partialRows() * qw);
        this.partMl = arena.take(8L * b.partialRows() * c.numHeads());
        this.logits = arena.take(4L * b.logitRowsDev() * c.vocabSize());
        this.sampled = arena.take(8L * b.logitRowsDev());
        this.splitK = arena.take(4 * b.splitKFloats());
        this.cublasWorkspace = arena.take(Cublas.WORKSPACE_BYTES);
        this.params = arena.take(b.paramBytes());
        this.hostParams = new PinnedBuffer(b.paramBytes());
        this.hostLogits = new PinnedBuffer(4L * b.logitRowsHost() * c.vocabSize());
        this.hostSampled = new PinnedBuffer(8L * b.logitRowsDev());
        this.pack = new HostPack(hostParams, params);
    }

    /** Bytes of each half of the parameter region (8-byte seeds in the upper half stay aligned). */
    long half() {
        return hostParams.size() / 2 / DeviceArena.ALIGN * DeviceArena.ALIGN;
    }

    /** Copies the packed step arrays (the lower half) to the device. */
    void uploadStep(jcuda.driver.CUstream stream) {
        if (pack.used() > half()) {
            throw new IllegalStateException("step parameters exceed their staging area");
        }
        hostParams.toDevice(params, pack.used(), stream);
    }

    @Override
    public void close() {
        hostParams.close();
        hostLogits.close();
        hostSampled.close();
    }
}
