package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.backend.cuda.attention.Fp16PagedCache;
import kittyspark.runtime.backend.cuda.driver.DeviceArena;
import kittyspark.runtime.backend.cuda.gemm.Cublas;
import kittyspark.runtime.backend.cuda.gemm.GemmPlan;
import kittyspark.runtime.backend.cuda.pages.PagePool;
import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * How the device memory is shared out at start: weights, the step workspace (sized for
 * {@code stepRows} tokens per step), the step parameter region, then the KV budget, of which
 * the fp16 page pool takes all (fp16 mode) or {@code fp16Share} (a quantized mode, whose pages
 * get the rest). Pure arithmetic, so that the sizing is tested without a GPU.
 *
 * @param stepRows      most tokens in one step
 * @param partialRows   rows of the attention partial workspace
 * @param logitRowsHost logits rows staged on the host per copy (forward)
 * @param logitRowsDev  logits rows on the device (sampling)
 * @param splitKFloats  capacity of the decode GEMMs' split-K workspace
 * @param fp16Pages     pages of the fp16 pool
 * @param quantizedBytes the KV bytes left for a quantized mode's pages (0 in fp16 mode)
 */
public record DeviceBudget(long weightBytes, long workBytes, long paramBytes, int stepRows, int partialRows,
                           int logitRowsHost, int logitRowsDev, long splitKFloats, int fp16Pages, long fp16Bytes,
                           long quantizedBytes, long arenaBytes) {
    /** Host staging for logits copied back by forward. */
    static final long LOGIT_STAGE_BYTES = 64L << 20;
    /** Memory left free on the device for the driver, module code and stacks. */
    public static final long DEVICE_RESERVE_BYTES = 512L << 20;

    /** The budget of a model of {@code c} under {@code s} on a device with {@code freeBytes} free. */
    public static DeviceBudget plan(ModelConfig c, CudaSettings s, long freeBytes) {
        long hidden = c.hiddenSize();
        long qw = (long) c.numHeads() * c.headDim();
        long kvw = (long) c.numKvHeads() * c.headDim();
        long inter = c.intermediateSize();
        long vocab = c.vocabSize();
        long maxK = Math.max(hidden, Math.max(qw, inter));
        int rows = s.maxStepTokens();
        int partialRows = 2 * rows + 1024;
        int logitRowsHost = (int) Math.max(1, Math.min(1024, LOGIT_STAGE_BYTES / (4L * vocab)));
        int logitRowsDev = Math.max(s.maxBatch(), logitRowsHost);
        long splitKFloats = (long) GemmPlan.MAX_SPLITS * Math.min(rows, GemmPlan.DECODE_MAX_M)
                * Math.max(Math.max(hidden, qw + 2 * kvw), 2 * inter);
        long T = rows;
        long work = DeviceArena.align(4 * T * hidden) + 2 * DeviceArena.align(2 * T * maxK)
                + DeviceArena.align(4 * T * (qw + 2 * kvw)) + DeviceArena.align(4 * T * 2 * inter)
                + DeviceArena.align(4L * partialRows * qw) + DeviceArena.align(8L * partialRows * c.numHeads())
                + DeviceArena.align(4L * logitRowsDev * vocab) + DeviceArena.align(8L * logitRowsDev)
                + DeviceArena.align(4 * splitKFloats) + DeviceArena.align(Cublas.WORKSPACE_BYTES);
        long weights = DeviceModel.bytes(c);
        long room = freeBytes - weights - work - DEVICE_RESERVE_BYTES;
        long kvBytes = s.kvBudgetBytes() > 0 ? Math.min(s.kvBudgetBytes(), room) : (long) (s.kvFraction() * room);
        boolean quantized = s.kv().quantized();
        long fp16Budget = quantized ? (long) (kvBytes * s.fp16Share()) : kvBytes;
        long bytesPerPage = Fp16PagedCache.bytesPerPage(c);
        // Each page also costs a page-table entry per step in the parameter region: 4 bytes.
        int pages = PagePool.pagesFor(Math.max(0, fp16Budget), bytesPerPage + 4);
        long params = 4L * (pages + 16L * T + 8L * (partialRows + T) + 6L * logitRowsDev + 1024) + 8L * logitRowsDev;
        long fp16Bytes = (long) pages * bytesPerPage;
        long arena = weights + work + DeviceArena.align(params) + Fp16PagedCache.arenaBytes(c, pages) + 64 * DeviceArena.ALIGN;
        return new DeviceBudget(weights, work, params, rows, partialRows, logitRowsHost, logitRowsDev, splitKFloats, pages,
                fp16Bytes, quantized ? Math.max(0, kvBytes - fp16Budget) : 0, arena);
    }
}
