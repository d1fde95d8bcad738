package kittyspark.kvquant;

/**
 * The bytes of one key page of one KV head: {@code P} tokens by {@code D} channels, each
 * channel quantized over the page's tokens (one group per channel), {@code B} channels at
 * 4 bits, the rest at 2.
 *
 * <pre>
 * region       bytes      content
 * low plane    D * P/4    channel-major: byte d*(P/4) + t/4, bits 2*(t%4): q[t][d] &amp; 3, every channel
 * high plane   B * P/4    byte slot*(P/4) + t/4, same bit position: (q[t][d] &gt;&gt; 2) &amp; 3, boosted channels only
 * index        D          (only when B &gt; 0) uint8 per channel: its slot 0..B-1, or B when not boosted
 * metadata     D * 4      per channel: fp16 scale, fp16 min (little-endian)
 * </pre>
 *
 * A 4-bit channel is two 2-bit planes, so every page has the same shape and dequantization
 * is uniform: {@code code = lo | hi << 2}, with the bit width folded into the scale. Without
 * boosted channels (KIVI) the index would say nothing and is left out.
 */
public record KeyPageLayout(int pageSize, int headDim, int boosted) {
    public KeyPageLayout {
        if (pageSize <= 0 || pageSize % 4 != 0 || headDim <= 0 || boosted < 0 || boosted > headDim || boosted > 255) {
            throw new IllegalArgumentException("key page needs P % 4 == 0, D > 0, 0 <= B <= min(D, 255): P=" + pageSize
                    + " D=" + headDim + " B=" + boosted);
        }
    }

    public int rowBytes() {
        return pageSize / 4;
    }

    public int lowOffset() {
        return 0;
    }

    public int highOffset() {
        return headDim * rowBytes();
    }

    public int indexOffset() {
        return highOffset() + boosted * rowBytes();
    }

    public int metadataOffset() {
        return indexOffset() + (boosted > 0 ? headDim : 0);
    }

    public int bytes() {
        return metadataOffset() + headDim * 4;
    }

    /**
     * Quantizes P tokens of one head into {@code page[pageOff ..]}.
     *
     * @param keys row-major; token t channel d at {@code off + t * stride + d}
     */
    public void quantize(float[] keys, int off, int stride, byte[] page, int pageOff) {
        int[] boostedChannels = ChannelBoost.select(keys, off, stride, pageSize, headDim, boosted);
        int[] slotOf = new int[headDim];
        java.util.Arrays.fill(slotOf, boosted);
        for (int s = 0; s < boostedChannels.length; s++) {
            slotOf[boostedChannels[s]] = s;
        }
        java.util.Arrays.fill(page, pageOff, pageOff + bytes(), (byte) 0);
        for (int d = 0; d < headDim; d++) {
            boolean boost = slotOf[d] < boosted;
            int bits = boost ? 4 : 2;
            float mn = Float.POSITIVE_INFINITY;
            float mx = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < pageSize; t++) {
                float x = keys[off + t * stride + d];
                mn = Math.min(mn, x);
                mx = Math.max(mx, x);
            }
            AsymmetricQuantizer.Params p = AsymmetricQuantizer.params(mn, mx, bits);
            float scale = p.scale();
            float min = p.min();
            for (int t = 0; t < pageSize; t++) {
                int q = AsymmetricQuantizer.quantize(keys[off + t * stride + d], scale, min, bits);
                TwoBitPlane.put(page, pageOff + lowOffset() + d * rowBytes(), t, q & 3);
                if (boost) {
                    TwoBitPlane.put(page, pageOff + highOffset() + slotOf[d] * rowBytes(), t, (q >>> 2) & 3);
                }
            }
            if (boosted > 0) {
                page[pageOff + indexOffset() + d] = (byte) slotOf[d];
            }
            TwoBitPlane.putFp16(page, pageOff + metadataOffset() + 4 * d, p.scaleBits());
            TwoBitPlane.putFp16(page, pageOff + metadataOffset() + 4 * d + 2, p.minBits());
        }
    }

    /** The code of token t, channel d (0..3, or 0..15 for a boosted channel). */
    public int code(byte[] page, int pageOff, int t, int d) {
        int lo = TwoBitPlane.get(page, pageOff + lowOffset() + d * rowBytes(), t);
        int slot = boosted > 0 ? page[pageOff + indexOffset() + d] & 0xff : boosted;
        if (slot >= boosted) {
            return lo;
        }
        return lo | TwoBitPlane.get(page, pageOff + highOffset() + slot * rowBytes(), t) << 2;
    }

    public float scale(byte[] page, int pageOff, int d) {
        return Fp16.toFloat(TwoBitPlane.getFp16(page, pageOff + metadataOffset() + 4 * d));
    }

    public float min(byte[] page, int pageOff, int d) {
        return Fp16.toFloat(TwoBitPlane.getFp16(page, pageOff + metadataOffset() + 4 * d + 2));
    }

    /** Dequantizes the page into {@code out[outOff + t * stride + d]}. */
    public void dequantize(byte[] page, int pageOff, float[] out, int outOff, int stride) {
        for (int d = 0; d < headDim; d++) {
            float scale = scale(page, pageOff, d);
            float mn = min(page, pageOff, d);
            for (int t = 0; t < pageSize; t++) {
                out[outOff + t * stride + d] = AsymmetricQuantizer.dequantize(code(page, pageOff, t, d), scale, mn);
            }
        }
    }
}
