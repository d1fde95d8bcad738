package kittyspark.kvquant;

/**
 * The bytes of one value page of one KV head: {@code P} tokens by {@code D} channels, each
 * token quantized over its channels (one group per token), always 2 bits.
 *
 * <pre>
 * region     bytes      content
 * data       P * D/4    token-major: byte t*(D/4) + d/4, bits 2*(d%4)
 * metadata   P * 4      per token: fp16 scale, fp16 min (little-endian)
 * </pre>
 */
public record ValuePageLayout(int pageSize, int headDim) {
    static final int BITS = 2;

    public ValuePageLayout {
        if (pageSize <= 0 || headDim <= 0 || headDim % 4 != 0) {
            throw new IllegalArgumentException("value page needs P > 0 and D % 4 == 0: P=" + pageSize + " D=" + headDim);
        }
    }

    public int rowBytes() {
        return headDim / 4;
    }

    public int metadataOffset() {
        return pageSize * rowBytes();
    }

    public int bytes() {
        return metadataOffset() + pageSize * 4;
    }

    /** @param values row-major; token t channel d at {@code off + t * stride + d} */
    public void quantize(float[] values, int off, int stride, byte[] page, int pageOff) {
        java.util.Arrays.fill(page, pageOff, pageOff + bytes(), (byte) 0);
        for (int t = 0; t < pageSize; t++) {
            int row = off + t * stride;
            float mn = Float.POSITIVE_INFINITY;
            float mx = Float.NEGATIVE_INFINITY;
            for (int d = 0; d < headDim; d++) {
                mn = Math.min(mn, values[row + d]);
                mx = Math.max(mx, values[row + d]);
            }
            AsymmetricQuantizer.Params p = AsymmetricQuantizer.params(mn, mx, BITS);
            float scale = p.scale();
            float min = p.min();
            for (int d = 0; d < headDim; d++) {
                TwoBitPlane.put(page, pageOff + t * rowBytes(), d, AsymmetricQuantizer.quantize(values[row + d], scale, min, BITS));
            }
            TwoBitPlane.putFp16(page, pageOff + metadataOffset() + 4 * t, p.scaleBits());
            TwoBitPlane.putFp16(page, pageOff + metadataOffset() + 4 * t + 2, p.minBits());
        }
    }

    public int code(byte[] page, int pageOff, int t, int d) {
        return TwoBitPlane.get(page, pageOff + t * rowBytes(), d);
    }

    public float scale(byte[] page, int pageOff, int t) {
        return Fp16.toFloat(TwoBitPlane.getFp16(page, pageOff + metadataOffset() + 4 * t));
    }

    public float min(byte[] page, int pageOff, int t) {
        return Fp16.toFloat(TwoBitPlane.getFp16(page, pageOff + metadataOffset() + 4 * t + 2));
    }

    public void dequantize(byte[] page, int pageOff, float[] out, int outOff, int stride) {
        for (int t = 0; t < pageSize; t++) {
            float scale = scale(page, pageOff, t);
            float mn = min(page, pageOff, t);
            for (int d = 0; d < headDim; d++) {
                out[outOff + t * stride + d] = AsymmetricQuantizer.dequantize(code(page, pageOff, t, d), scale, mn);
            }
        }
    }
}
