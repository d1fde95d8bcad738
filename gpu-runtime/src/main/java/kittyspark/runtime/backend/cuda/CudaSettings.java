package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;

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
 * @param kv             the KV mode the pool is sized for: fp16 pages, or kivi/kitty pages (then the
 *                       fp16 pool keeps only {@link #FP16_SHARE_PROPERTY} of the budget); other
 *                       quantized modes get a pool of their own on first use, from free memory
 * @param fp16Share      share of the KV budget the fp16 pool keeps when sized for a quantized mode
 * @param referenceTokens sequence length (prompt + new tokens) quantized pools are sized for
 */
public record CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction,
                           Precision precision, KvSettings kv, double fp16Share, long referenceTokens) {
    public static final double DEFAULT_FP16_SHARE = 0.05;
    /** Sequence length the pools are sized for and the start-up line reports (prompt 2048 + 128). */
    public static final long DEFAULT_REFERENCE_TOKENS = 2048 + 128;
    /** System property: the sequence length quantized pools are sized for (default 2048 + 128). */
    public static final String REFERENCE_TOKENS_PROPERTY = "kittyspark.cuda.kvReferenceTokens";
    public static final double DEFAULT_KV_FRACTION = 0.9;
    /** System property overriding the KV pool's share of free memory (default 0.9). */
    public static final String KV_FRACTION_PROPERTY = "kittyspark.cuda.kvFraction";

    /** System property naming the KV mode the pool is sized for (fp16, kivi, kitty; default fp16). */
    public static final String KV_PROPERTY = "kittyspark.cuda.kv";
    /** Optional overrides of that mode's boost fraction and sink (as --kv-boost-fraction / --kv-sink). */
    public static final String KV_BOOST_PROPERTY = "kittyspark.cuda.kvBoostFraction";
    public static final String KV_SINK_PROPERTY = "kittyspark.cuda.kvSink";
    /** System property: share of the KV budget the fp16 pool keeps when the pool is sized for a quantized mode (default 0.05). */
    public static final String FP16_SHARE_PROPERTY = "kittyspark.cuda.fp16Share";

    public CudaSettings {
        if (maxBatch <= 0 || maxStepTokens <= 0 || kvBudgetBytes < 0 || !(kvFraction > 0 && kvFraction <= 1) || kv == null
                || !(fp16Share >= 0 && fp16Share < 1) || referenceTokens <= 0) {
            throw new IllegalArgumentException("CUDA settings: max batch > 0, step tokens > 0, KV budget >= 0, fraction in (0, 1],"
                    + " a KV mode, fp16 share in [0, 1), reference tokens > 0");
        }
    }

    public CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction, Precision precision,
                        KvSettings kv) {
        this(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv,
                Double.parseDouble(System.getProperty(FP16_SHARE_PROPERTY, String.valueOf(DEFAULT_FP16_SHARE))),
                Long.getLong(REFERENCE_TOKENS_PROPERTY, DEFAULT_REFERENCE_TOKENS));
    }

    /** Settings whose pool holds fp16 pages. */
    public CudaSettings(int ordinal, int maxBatch, int maxStepTokens, long kvBudgetBytes, double kvFraction, Precision precision) {
        this(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, KvSettings.of(KvMode.FP16));
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
                fraction, Precision.resolve(c), poolKv());
    }

    /** The KV mode named by the system properties (default fp16). */
    public static KvSettings poolKv() {
        KvSettings kv = KvSettings.parse(System.getProperty(KV_PROPERTY, "fp16"));
        if (kv.quantized() && System.getProperty(KV_BOOST_PROPERTY) != null) {
            kv = kv.withBoostFraction(Double.parseDouble(System.getProperty(KV_BOOST_PROPERTY)));
        }
        if (kv.quantized() && System.getProperty(KV_SINK_PROPERTY) != null) {
            kv = kv.withSink(Integer.parseInt(System.getProperty(KV_SINK_PROPERTY)));
        }
        return kv;
    }

    /**
     * Asks CUDA backends opened later in this JVM to size their pool for {@code kv} (a
     * quantized mode), unless a pool mode was already chosen: the CLI and the Spark executors
     * call this with the job's --kv. Other modes still work, from a smaller pool made on first use.
     */
    public static synchronized void sizePoolFor(KvSettings kv) {
        if (!kv.quantized() || System.getProperty(KV_PROPERTY) != null) {
            return;
        }
        System.setProperty(KV_BOOST_PROPERTY, String.valueOf(kv.boostFraction()));
        System.setProperty(KV_SINK_PROPERTY, String.valueOf(kv.sink()));
        System.setProperty(KV_PROPERTY, kv.mode().id());
    }

    public CudaSettings withMaxBatch(int b) {
        return new CudaSettings(ordinal, b, maxStepTokens, kvBudgetBytes, kvFraction, precision, kv, fp16Share, referenceTokens);
    }

    public CudaSettings withMaxStepTokens(int t) {
        return new CudaSettings(ordinal, maxBatch, t, kvBudgetBytes, kvFraction, precision, kv, fp16Share, referenceTokens);
    }

    public CudaSettings withPrecision(Precision p) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, p, kv, fp16Share, referenceTokens);
    }

    public CudaSettings withKv(KvSettings k) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, kvBudgetBytes, kvFraction, precision, k, fp16Share, referenceTokens);
    }

    public CudaSettings withKvBudgetBytes(long b) {
        return new CudaSettings(ordinal, maxBatch, maxStepTokens, b, kvFraction, precision, kv, fp16Share, referenceTokens);
    }
}
