package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;

/**
 * How to build a {@link CudaBackend}.
 *
 * @param ordinal        CUDA device number (cuda:N)
 * @param maxBatch       most sequences in one step (sizes the logits and sampling buffers)
 * @param maxStepTokens  most tokens in one forward step; longer inputs are fed in several
 * @param kvBudgetBytes  KV cache size in bytes; 0: {@code kvFraction} of the free memory
 *                       left after weights and workspace
 * @param kvFraction     share of the remaining free memory given to the KV cache
 * @param precision      GEMM operand precision
 * @param kv             the KV mode the pools are sized for: fp16 pages, or kivi/kitty pages (then the
 *                       fp16 pool keeps only {@code fp16Share} of the budget); other
 *                       quantized modes get a pool of their own on first use, from free memory
 * @param fp16Share      share of the KV budget the fp16 pool keeps when sized for a quantized mode
 * @param referenceTokens sequence length (prompt + new tokens) quantized pools are sized for
 * @param cublas         whether cuBLAS may compete for the GEMMs
 * @param kittyAttention the decode-attention kernel over quantized pages
 * @param cudaGraphs     whether fp16 decode steps are replayed as CUDA graphs
 */
public record CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction,
                           Precision precision, KvSettings kv, double fp16Share, long referenceTokens, boolean cublas,
                           KittyAttentionVariant kittyAttention, boolean cudaGraphs) {
    public static final double DEFAULT_KV_FRACTION = CudaOptions.DEFAULTS.kvFraction();

    public CudaSettings {
        if (maxBatch <= 0 || maxStepTokens <= 0 || kvBudgetBytes < 0 || !(kvFraction > 0 && kvFraction <= 1) || kv == null
                || !(fp16Share >= 0 && fp16Share < 1) || referenceTokens <= 0 || kittyAttention == null) {
            throw new IllegalArgumentException("CUDA settings: max batch > 0, step tokens > 0, KV budget >= 0, fraction in (0, 1],"
                    + " a KV mode, fp16 share in [0, 1), reference tokens > 0, a Kitty attention kernel");
        }
    }

    /** Settings with the default tuning and pools for {@code kv}. */
    public CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction, Precision precision,
                        KvSettings kv) {
        this(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, CudaOptions.DEFAULTS.fp16Share(),
                CudaOptions.DEFAULTS.referenceTokens(), CudaOptions.DEFAULTS.cublas(), CudaOptions.DEFAULTS.kittyAttention(),
                CudaOptions.DEFAULTS.cudaGraphs());
    }

    /** Settings whose pool holds fp16 pages. */
    public CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction, Precision precision) {
        this(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, KvSettings.of(KvMode.FP16));
    }

    /** The device number of "cuda:N" (the one place that parses a CUDA device string). */
    public static int ordinalOf(String device) {
        if (device == null || !device.matches("cuda:\\d+")) {
            throw new IllegalArgumentException("not a CUDA device: '" + device + "' (expected cuda:N)");
        }
        return Integer.parseInt(device.substring(5));
    }

    /**
     * For a model of {@code c} on {@code device}: the step holds a full prefill chunk plus a
     * decode row per sequence; the rest as {@code o} says.
     */
    public static CudaSettings of(String device, int maxBatch, int prefillChunk, long kvBudgetBytes, CudaOptions o, ModelConfig c) {
        return new CudaSettings(ordinalOf(device), maxBatch, prefillChunk + maxBatch, kvBudgetBytes, o.kvFraction(),
                Precision.resolve(o.precision(), c), o.poolKv(), o.fp16Share(), o.referenceTokens(), o.cublas(), o.kittyAttention(),
                o.cudaGraphs());
    }

    public CudaSettings withMaxBatch(int b) {
        return new CudaSettings(ordinal, b, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, fp16Share, referenceTokens,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withMaxStepTokens(int t) {
        return new CudaSettings(ordinal, maxBatch, t, kvBudgetBytes, kvFraction, precision, kv, fp16Share, referenceTokens,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withPrecision(Precision p) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, p, kv, fp16Share, referenceTokens,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withKv(KvSettings k) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, k, fp16Share, referenceTokens,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withKvBudgetBytes(long b) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, b, kvFraction, precision, kv, fp16Share, referenceTokens,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withFp16Share(double s) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, s, referenceTokens,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withReferenceTokens(long t) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, fp16Share, t,
                cublas, kittyAttention, cudaGraphs);
    }

    public CudaSettings withKittyAttention(KittyAttentionVariant v) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, fp16Share, referenceTokens,
                cublas, v, cudaGraphs);
    }

    public CudaSettings withCudaGraphs(boolean on) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, fp16Share, referenceTokens,
                cublas, kittyAttention, on);
    }
}
