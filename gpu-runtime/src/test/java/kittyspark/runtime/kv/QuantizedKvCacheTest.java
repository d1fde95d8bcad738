package kittyspark.runtime.kv;

import java.util.SplittableRandom;

import kittyspark.kvquant.Fp16;
import kittyspark.kvquant.KvMemory;
import kittyspark.runtime.checkpoint.KvGeometry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The kivi/kitty caches behind the engine's KvCache interface, against the full-precision cache. */
class QuantizedKvCacheTest {
    static final KvGeometry G = new KvGeometry(2, 4, 2, 16);
    static final KvSettings KITTY = KvSettings.parse("kitty");

    /** Feeds the same keys/values/queries to a cache: a prefill of {@code prefill} tokens, then one token per step. */
    private static float[] run(KvCache cache, int prefill, int total, long seed) {
        return run(cache, prefill, total, seed, false);
    }

    private static float[] run(KvCache cache, int prefill, int total, long seed, boolean kvAsFp16) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] last = null;
        int fed = 0;
        while (fed < total) {
            int n = fed == 0 ? prefill : 1;
            for (int l = 0; l < G.numLayers(); l++) {
                float[] k = gaussian(r, n * G.kvWidth());
                float[] v = gaussian(r, n * G.kvWidth());
                float[] q = gaussian(r, n * G.qWidth());
                float[] out = new float[n * G.qWidth()];
                if (kvAsFp16) {
                    k = fp16(k);
                    v = fp16(v);
                }
                cache.append(l, k, v, n);
                cache.attend(l, q, n, out);
                last = out;
            }
            fed += n;
        }
        return last;
    }

    private static float[] fp16(float[] x) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = Fp16.round(x[i]);
        }
        return r;
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void matchesAFullPrecisionCacheOfFp16ValuesWhileNothingIsPaged() {
        // kitty: 32 sink + 127 buffered keys, all values in the window, held as fp16 like a device holds them
        float[] q = run(new QuantizedKvCache(KITTY, G), 100, 159, 1);
        float[] fp = run(new FullPrecisionKvCache(G), 100, 159, 1, true);
        assertArrayEquals(fp, q, 1e-6f);
    }

    @Test
    void decodeReadsExactlyWhatThePackedPagesHold() {
        // Keys and values rebuilt independently: sink and buffers from the inputs rounded to fp16, paged
        // tokens by dequantizing the stored page bytes; attention over them must be what the
        // cache computed.
        SplittableRandom r = new SplittableRandom(9);
        KvGeometry g = new KvGeometry(1, 2, 1, 16);
        QuantizedKvCache cache = new QuantizedKvCache(KITTY, g);
        int prefill = 330;
        float[] k = gaussian(r, (prefill + 1) * g.kvWidth());
        float[] v = gaussian(r, (prefill + 1) * g.kvWidth());
        cache.append(0, k, v, prefill);
        cache.attend(0, new float[prefill * g.qWidth()], prefill, new float[prefill * g.qWidth()]);
        float[] q = gaussian(r, g.qWidth());
        float[] out = new float[g.qWidth()];
        cache.append(0, java.util.Arrays.copyOfRange(k, prefill * 16, (prefill + 1) * 16),
                java.util.Arrays.copyOfRange(v, prefill * 16, (prefill + 1) * 16), 1);
        cache.attend(0, q, 1, out);

        var stream = cache.stream(0, 0);
        float[] keys = fp16(java.util.Arrays.copyOf(k, (prefill + 1) * 16));
        float[] values = fp16(java.util.Arrays.copyOf(v, (prefill + 1) * 16));
        for (int p = 0; p < 2; p++) { // pages made after the prefill: tokens 32..287 (keys), 32..159 (values)
            stream.keyLayout().dequantize(stream.keyPage(p), 0, keys, (32 + 128 * p) * 16, 16);
        }
        stream.valueLayout().dequantize(stream.valuePage(0), 0, values, 32 * 16, 16);
        float[] expected = new float[g.qWidth()];
        DenseAttention.causal(g, q, 1, keys, values, prefill + 1, expected);
        assertEquals(2, stream.keyPageCount());
        assertEquals(1, stream.valuePageCount());
        assertArrayEquals(expected, out, 1e-6f);
    }

    @Test
    void kittyWithoutBoostIsKiviWithA32TokenSink() {
        KvSettings kittyNoBoost = KITTY.withBoostFraction(0.0);
        KvSettings kiviWithSink = KvSettings.parse("kivi").withSink(32);
        QuantizedKvCache a = new QuantizedKvCache(kittyNoBoost, G);
        QuantizedKvCache b = new QuantizedKvCache(kiviWithSink, G);
        assertArrayEquals(run(b, 200, 350, 3), run(a, 200, 350, 3));
        for (int l = 0; l < G.numLayers(); l++) {
            for (int h = 0; h < G.numKvHeads(); h++) {
                assertEquals(b.stream(l, h).keyPageCount(), a.stream(l, h).keyPageCount());
                for (int p = 0; p < a.stream(l, h).keyPageCount(); p++) {
                    assertArrayEquals(b.stream(l, h).keyPage(p), a.stream(l, h).keyPage(p));
                }
            }
        }
    }

    @Test
    void pagesAreMadeFromTheFp16RoundedInputsLikeOnADevice() {
        KvGeometry g = new KvGeometry(1, 2, 1, 16);
        SplittableRandom r = new SplittableRandom(5);
        float[] k = gaussian(r, 200 * g.kvWidth());
        float[] v = gaussian(r, 200 * g.kvWidth());
        QuantizedKvCache raw = new QuantizedKvCache(KITTY, g);
        QuantizedKvCache rounded = new QuantizedKvCache(KITTY, g);
        raw.append(0, k, v, 200);
        raw.attend(0, new float[200 * g.qWidth()], 200, new float[200 * g.qWidth()]);
        rounded.append(0, fp16(k), fp16(v), 200);
        rounded.attend(0, new float[200 * g.qWidth()], 200, new float[200 * g.qWidth()]);
        assertEquals(1, raw.stream(0, 0).keyPageCount());
        assertArrayEquals(rounded.stream(0, 0).keyPage(0), raw.stream(0, 0).keyPage(0));
    }

    @Test
    void storedBytesAreWhatTheAccountingSaysForEveryLayerAndHead() {
        QuantizedKvCache c = new QuantizedKvCache(KITTY, G);
        run(c, 500, 777, 4);
        long perStream = KvMemory.streamBytes(KITTY.quantConfig(), G.headDim(), 777);
        assertEquals(perStream * G.numLayers() * G.numKvHeads(), c.storedBytes());
    }
}
