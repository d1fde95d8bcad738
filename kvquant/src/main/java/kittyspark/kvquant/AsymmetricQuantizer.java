package kittyspark.kvquant;

/**
 * Asymmetric uniform quantization of one group with fixed numerics, shared by the CPU
 * reference and the GPU kernels:
 * {@code scale = max((mx - mn) / (2^b - 1), 1e-6)}; scale and mn are rounded to fp16 (that is
 * how they are stored) and quantization uses the rounded values, in fp32:
 * {@code q = clamp(floor((x - mn) / scale + 0.5), 0, 2^b - 1)}; dequantization is
 * {@code q * scale + mn}.
 */
public final class AsymmetricQuantizer {
    static final float MIN_SCALE = 1e-6f;

    private AsymmetricQuantizer() {
    }

    /** fp16 scale and minimum of a group, as stored, and as fp32 for arithmetic. */
    public record Params(short scaleBits, short minBits) {
        public float scale() {
            return Fp16.toFloat(scaleBits);
        }

        public float min() {
            return Fp16.toFloat(minBits);
        }
    }

    public static int levels(int bits) {
        return (1 << bits) - 1;
    }

    public static Params params(float mn, float mx, int bits) {
        float scale = Math.max((mx - mn) / levels(bits), MIN_SCALE);
        return new Params(Fp16.fromFloat(scale), Fp16.fromFloat(mn));
    }

    public static int quantize(float x, float scale, float mn, int bits) {
        int q = (int) Math.floor((x - mn) / scale + 0.5f);
        return Math.max(0, Math.min(levels(bits), q));
    }

    public static float dequantize(int q, float scale, float mn) {
        return q * scale + mn;
    }
}
