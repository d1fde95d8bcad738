package kittyspark.runtime.backend.cuda;

import java.io.Serializable;
import java.util.Locale;

import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
import kittyspark.runtime.kv.KvSettings;

/**
 * The CUDA backend's tuning, as a job states it (HOCON {@code kitty.engine.cuda.*}, see
 * docs/config.md) and passes with the engine's options: one value per engine, never a
 * JVM-wide switch.
 *
 * @param kvFraction      share of the free memory after weights and workspace given to the KV cache
 * @param precision       GEMM operand precision: {@code auto} (split below 1B parameters, bf16 above), {@code split}, {@code bf16}
 * @param poolKv          the KV mode the pools are sized for (fp16 pages, or kivi/kitty pages); other modes get a pool on first use
 * @param fp16Share       share of the KV budget the fp16 pool keeps when the pools are sized for a quantized mode
 * @param referenceTokens sequence length (prompt + new tokens) a quantized pool's fp16 tail slots are sized for
 * @param cublas          whether cuBLAS/cuBLASLt may compete for the GEMMs (where the machine has it)
 * @param kittyAttention  the decode-attention kernel over kivi/kitty pages ({@code i8}, {@code bulk}, {@code cp-async})
 * @param cudaGraphs      whether decode steps over fp16 pages are captured once per shape and replayed as CUDA graphs
 */
public record CudaOptions(double kvFraction, String precision, KvSettings poolKv, double fp16Share, long referenceTokens,
                          boolean cublas, KittyAttentionVariant kittyAttention, boolean cudaGraphs) implements Serializable {
    public static final CudaOptions DEFAULTS = new CudaOptions(0.9, "auto", KvSettings.parse("fp16"), 0.05, 2048 + 128, true,
            KittyAttentionVariant.DEFAULT, true);

    public CudaOptions {
        if (!(kvFraction > 0 && kvFraction <= 1)) {
            throw new IllegalArgumentException("kitty.engine.cuda.kv-fraction must be in (0, 1], got " + kvFraction);
        }
        precision = precision == null ? "auto" : precision.trim().toLowerCase(Locale.ROOT);
        if (!precision.equals("auto") && !precision.equals("split") && !precision.equals("bf16")) {
            throw new IllegalArgumentException("kitty.engine.cuda.precision must be auto, split or bf16, got '" + precision + "'");
        }
        if (poolKv == null) {
            throw new IllegalArgumentException("kitty.engine.cuda: a KV mode to size the pools for is required");
        }
        if (!(fp16Share >= 0 && fp16Share < 1)) {
            throw new IllegalArgumentException("kitty.engine.cuda.fp16-share must be in [0, 1), got " + fp16Share);
        }
        if (referenceTokens <= 0) {
            throw new IllegalArgumentException("kitty.engine.cuda.reference-tokens must be positive, got " + referenceTokens);
        }
        if (kittyAttention == null) {
            throw new IllegalArgumentException("kitty.engine.cuda.kitty-attention: a kernel is required");
        }
    }

    /** The pools sized for {@code kv}: the job's own mode, so that its sequences get the big pool. */
    public CudaOptions withPoolKv(KvSettings kv) {
        return new CudaOptions(kvFraction, precision, kv, fp16Share, referenceTokens, cublas, kittyAttention, cudaGraphs);
    }

    public CudaOptions withPrecision(String p) {
        return new CudaOptions(kvFraction, p, poolKv, fp16Share, referenceTokens, cublas, kittyAttention, cudaGraphs);
    }

    public CudaOptions withKvFraction(double f) {
        return new CudaOptions(f, precision, poolKv, fp16Share, referenceTokens, cublas, kittyAttention, cudaGraphs);
    }

    public CudaOptions withFp16Share(double s) {
        return new CudaOptions(kvFraction, precision, poolKv, s, referenceTokens, cublas, kittyAttention, cudaGraphs);
    }

    public CudaOptions withReferenceTokens(long t) {
        return new CudaOptions(kvFraction, precision, poolKv, fp16Share, t, cublas, kittyAttention, cudaGraphs);
    }

    public CudaOptions withCublas(boolean on) {
        return new CudaOptions(kvFraction, precision, poolKv, fp16Share, referenceTokens, on, kittyAttention, cudaGraphs);
    }

    public CudaOptions withCudaGraphs(boolean on) {
        return new CudaOptions(kvFraction, precision, poolKv, fp16Share, referenceTokens, cublas, kittyAttention, on);
    }

    /** The decode-attention kernel over quantized pages, by name (see {@link KittyAttentionVariant#parse}). */
    public CudaOptions withKittyAttention(String name) {
        return new CudaOptions(kvFraction, precision, poolKv, fp16Share, referenceTokens, cublas, KittyAttentionVariant.parse(name), cudaGraphs);
    }
}
