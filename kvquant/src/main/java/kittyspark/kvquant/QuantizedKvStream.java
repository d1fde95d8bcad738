package kittyspark.kvquant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The keys and values of one sequence in one KV head of one layer, held the Kitty/KIVI way:
 *
 * <pre>
 * keys:   [ sink S (fp) | key pages of P (2/4-bit)      | key buffer (fp, < P)          ]
 * values: [ sink S (fp) | value pages of P (2-bit) | value buffer (fp, < P) | window W (fp) ]
 * </pre>
 *
 * Next to the packed pages it keeps a materialized fp32 view that is exactly what attention
 * reads: full-precision tokens as given, paged tokens as their dequantized values. The view
 * is updated once, when a page is made, so attention never dequantizes the same page twice.
 */
public final class QuantizedKvStream {
    private final QuantConfig config;
    private final int headDim;
    private final KeyPageLayout keyLayout;
    private final ValuePageLayout valueLayout;
    private final List<byte[]> keyPages = new ArrayList<>();
    private final List<byte[]> valuePages = new ArrayList<>();
    private float[] keys = new float[0];
    private float[] values = new float[0];
    private int length;

    public QuantizedKvStream(QuantConfig config, int headDim) {
        this.config = config;
        this.headDim = headDim;
        this.keyLayout = config.keyLayout(headDim);
        this.valueLayout = config.valueLayout(headDim);
    }

    public int length() {
        return length;
    }

    public int headDim() {
        return headDim;
    }

    /** Appends n tokens; token t's channels are at {@code k[kOff + t * stride ..]}. */
    public void append(float[] k, int kOff, float[] v, int vOff, int stride, int n) {
        int need = (length + n) * headDim;
        if (keys.length < need) {
            int cap = Math.max(need, keys.length * 2);
            keys = Arrays.copyOf(keys, cap);
            values = Arrays.copyOf(values, cap);
        }
        for (int t = 0; t < n; t++) {
            System.arraycopy(k, kOff + t * stride, keys, (length + t) * headDim, headDim);
            System.arraycopy(v, vOff + t * stride, values, (length + t) * headDim, headDim);
        }
        length += n;
    }

    /**
     * Turns every full key buffer and value buffer into pages. Called after a step's
     * attention: tokens attended in the step they arrived are read in full precision.
     */
    public void flush() {
        while (keyPages.size() < config.keyPages(length)) {
            int start = (int) config.pageStart(keyPages.size());
            byte[] page = new byte[keyLayout.bytes()];
            keyLayout.quantize(keys, start * headDim, headDim, page, 0);
            keyLayout.dequantize(page, 0, keys, start * headDim, headDim);
            keyPages.add(page);
        }
        while (valuePages.size() < config.valuePages(length)) {
            int start = (int) config.pageStart(valuePages.size());
            byte[] page = new byte[valueLayout.bytes()];
            valueLayout.quantize(values, start * headDim, headDim, page, 0);
            valueLayout.dequantize(page, 0, values, start * headDim, headDim);
            valuePages.add(page);
        }
    }

    /** What attention reads: {@code [length][headDim]} keys (read-only; valid until the next append). */
    public float[] keys() {
        return keys;
    }

    /** What attention reads: {@code [length][headDim]} values (read-only; valid until the next append). */
    public float[] values() {
        return values;
    }

    public int keyPageCount() {
        return keyPages.size();
    }

    public int valuePageCount() {
        return valuePages.size();
    }

    /** Keys waiting in the full-precision buffer (after the sink, not yet paged). */
    public int keyBufferLength() {
        return length - Math.min(config.sink(), length) - keyPages.size() * config.pageSize();
    }

    /** Values neither in the sink, in a page, nor in the window. */
    public int valueBufferLength() {
        int windowStart = Math.max(Math.min(config.sink(), length), length - config.valueWindow());
        return windowStart - Math.min(config.sink(), length) - valuePages.size() * config.pageSize();
    }

    public byte[] keyPage(int i) {
        return keyPages.get(i).clone();
    }

    public byte[] valuePage(int i) {
        return valuePages.get(i).clone();
    }

    public KeyPageLayout keyLayout() {
        return keyLayout;
    }

    public ValuePageLayout valueLayout() {
        return valueLayout;
    }

    /** Bytes held: packed pages plus fp16 for every full-precision key and value. */
    public long storedBytes() {
        long rawKeys = length - (long) keyPages.size() * config.pageSize();
        long rawValues = length - (long) valuePages.size() * config.pageSize();
        return (long) keyPages.size() * keyLayout.bytes() + (long) valuePages.size() * valueLayout.bytes()
                + (rawKeys + rawValues) * headDim * (KvMemory.FULL_PRECISION_BITS / 8);
    }
}
