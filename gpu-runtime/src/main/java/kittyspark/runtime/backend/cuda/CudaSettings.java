package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.engine.EngineOptions;

/**
 * How to build a {@link CudaBackend}.
 *
 * @param ordinal        CUDA device number (cuda:N)
 * @param maxBatch       most sequences in one step (sizes the logits and sampling buffers)
 * @param maxStepTokens  most tokens in one forward step; longer inputs are fed in several
 * @param kvBudgetBytes  KV page pool size in bytes; 0: {@code kvFraction} of the free memory
 *                       left after weights and workspace
 * @param kvFraction     share of the remaining free memory given to the KV pool
 * @param precision      GEMM operand precision
 */
public record CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction,
                           Precision precision) {
    public static final double DEFAULT_KV_FRACTION = 0.9;
    /** System property overriding the KV pool's share of free memory (default 0.9). */
    public static final String KV_FRACTION_PROPERTY = "kittyspark.cuda.kvFraction";

    public CudaSettings {
        if (maxBatch <= 0 || maxStepTokens <= 0 || kvBudgetBytes < 0 || !(kvFraction > 0 && kvFraction <= 1)) {
            throw new IllegalArgumentException("CUDA settings: max batch > 0, step tokens > 0, KV budget >= 0, fraction in (0, 1]");
        }
    }

    public static int ordinalOf(String device) {
        if (device == null || !device.matches("cuda:\\d+")) {
            throw new IllegalArgumentException("not a CUDA device: '" + device + "' (expected cuda:N)");
        }
        return Integer.parseInt(device.substring(5));
    }

    /** From the engine's options: the step holds a full prefill chunk plus a decode row per sequence. */
    public static CudaSettings from(EngineOptions o, ModelConfig c) {
        double fraction = Double.parseDouble(System.getProperty(KV_FRACTION_PROPERTY, String.valueOf(DEFAULT_KV_FRACTION)));
        return new CudaSettings(ordinalOf(o.device()), o.maxBatch(), o.prefillChunk() + o.maxBatch(), o.kvBudgetBytes(),
                fraction, Precision.resolve(c));
    }

    public CudaSettings withMaxBatch(int b) {
        return new CudaSettings(ordinal, b, maxStepTokens, kvBudgetBytes, kvFraction, precision);
    }

    public CudaSettings withMaxStepTokens(int t) {
        return new CudaSettings(ordinal, maxBatch, t, kvBudgetBytes, kvFraction, precision);
    }

    public CudaSettings withPrecision(Precision p) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, p);
    }

    public CudaSettings withKvBudgetBytes(long b) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, b, kvFraction, precision);
    }
}
