package kittyspark.runtime.backend.cuda;

import java.util.Locale;

import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * How GEMM operands are fed to the bf16 tensor cores. The weights are exactly bf16; the
 * activations are fp32. {@link #SPLIT} feeds x as hi = bf16(x) plus lo = bf16(x - hi), two
 * passes over the tensor cores that carry ~16 mantissa bits of x (close to the fp32 CPU
 * reference, what conformance needs); {@link #BF16} feeds bf16(x) once (half the tensor work,
 * what large models run with).
 *
 * <p>Chosen by {@code kitty.engine.cuda.precision} = {@code auto} (default: split below 1B
 * parameters, bf16 above), {@code split} or {@code bf16}.
 */
public enum Precision {
    SPLIT, BF16;

    public static final long AUTO_SPLIT_BELOW_PARAMS = 1_000_000_000L;

    public static Precision resolve(String choice, ModelConfig c) {
        String p = choice.trim().toLowerCase(Locale.ROOT);
        return switch (p) {
            case "split" -> SPLIT;
            case "bf16" -> BF16;
            case "auto" -> parameters(c) < AUTO_SPLIT_BELOW_PARAMS ? SPLIT : BF16;
            default -> throw new IllegalArgumentException("precision must be auto, split or bf16, got '" + p + "'");
        };
    }

    /** Parameter count of a Qwen3 / Llama 3 model of this shape. */
    public static long parameters(ModelConfig c) {
        long h = c.hiddenSize();
        long qw = (long) c.numHeads() * c.headDim();
        long kvw = (long) c.numKvHeads() * c.headDim();
        long norms = 2 * h + (c.architecture().qkNorm() ? 2L * c.headDim() : 0);
        long perLayer = h * (qw + 2 * kvw) + qw * h + 3 * h * c.intermediateSize() + norms;
        return (long) c.vocabSize() * h * (c.tieWordEmbeddings() ? 1 : 2) + c.numLayers() * perLayer + h;
    }
}
