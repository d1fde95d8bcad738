package kittyspark.kvquant;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * When tokens move between the full-precision regions and pages: S = 32 sink, P = 128 pages,
 * W = 128 value window (Kitty), checked after a prefill of L tokens at every boundary.
 */
class StreamTransitionsTest {
    static final int D = 16;

    private static QuantizedKvStream prefilled(QuantConfig c, int length) {
        QuantizedKvStream s = new QuantizedKvStream(c, D);
        float[] x = random(length * D, 5);
        s.append(x, 0, x, 0, D, length);
        s.flush();
        return s;
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest(name = "L={0}")
    @CsvSource({
        // L,  key pages, key buffer, value pages, value buffer
        "31,   0, 0,   0, 0",     // S-1: all sink
        "32,   0, 0,   0, 0",     // S
        "33,   0, 1,   0, 0",     // S+1: one key waits in the buffer; its value is in the window
        "159,  0, 127, 0, 0",     // S+P-1
        "160,  1, 0,   0, 0",     // S+P: first key page; values still all in the window
        "161,  1, 1,   0, 1",     // S+P+1: one value left the window into the buffer
        "287,  1, 127, 0, 127",   // S+2P-1
        "288,  2, 0,   1, 0",     // S+2P: (L-S) mod P = 0 keys wait; first value page
        "300,  2, 12,  1, 12",
    })
    void kittyRegionsAfterAPrefill(int length, int keyPages, int keyBuffer, int valuePages, int valueBuffer) {
        QuantizedKvStream s = prefilled(QuantConfig.kitty(), length);
        assertEquals(keyPages, s.keyPageCount(), "key pages");
        assertEquals(keyBuffer, s.keyBufferLength(), "key buffer: (L - S) mod P");
        assertEquals(valuePages, s.valuePageCount(), "value pages");
        assertEquals(valueBuffer, s.valueBufferLength(), "value buffer");
    }

    @Test
    void decodingTokenByTokenMakesPagesAtTheSameMomentsAsAPrefill() {
        QuantConfig c = QuantConfig.kitty();
        QuantizedKvStream decoded = new QuantizedKvStream(c, D);
        float[] x = random(400 * D, 5);
        for (int t = 0; t < 400; t++) {
            decoded.append(x, t * D, x, t * D, D, 1);
            decoded.flush();
            QuantizedKvStream once = prefilled(c, t + 1);
            assertEquals(once.keyPageCount(), decoded.keyPageCount(), "key pages at L=" + (t + 1));
            assertEquals(once.valuePageCount(), decoded.valuePageCount(), "value pages at L=" + (t + 1));
        }
        QuantizedKvStream once = prefilled(c, 400);
        for (int i = 0; i < once.keyPageCount(); i++) {
            assertArrayEquals(once.keyPage(i), decoded.keyPage(i), "key page " + i);
        }
    }

    @Test
    void theSinkStaysExactAndPagedTokensReadAsTheirDequantizedValues() {
        QuantizedKvStream s = prefilled(QuantConfig.kitty(), 300);
        float[] x = random(300 * D, 5);
        for (int i = 0; i < 32 * D; i++) {
            assertEquals(x[i], s.keys()[i], "sink key " + i);
            assertEquals(x[i], s.values()[i], "sink value " + i);
        }
        float[] page = new float[128 * D];
        s.keyLayout().dequantize(s.keyPage(0), 0, page, 0, D);
        for (int i = 0; i < page.length; i++) {
            assertEquals(page[i], s.keys()[32 * D + i], "paged key " + i);
        }
        for (int i = (300 - 128) * D; i < 300 * D; i++) {
            assertEquals(x[i], s.values()[i], "value window " + i);
        }
    }

    @Test
    void kiviHasNoSinkSoItsFirstPageStartsAtTokenZero() {
        QuantizedKvStream kivi = prefilled(QuantConfig.kivi(), 500);
        assertEquals(3, kivi.keyPageCount());
        assertEquals(500 - 3 * 128, kivi.keyBufferLength());
    }

    @Test
    void withoutBoostAKeyPageHasNeitherHighPlaneNorIndex() {
        KeyPageLayout kivi = QuantConfig.kivi().keyLayout(64);
        assertEquals(64 * 32 + 64 * 4, kivi.bytes());
        assertEquals(kivi.highOffset(), kivi.metadataOffset());
    }

    @Test
    void storedBytesMatchTheAccounting() {
        for (int length : new int[] {1, 31, 32, 160, 161, 288, 1000, 2048}) {
            for (QuantConfig c : new QuantConfig[] {QuantConfig.kitty(), QuantConfig.kivi()}) {
                assertEquals(KvMemory.streamBytes(c, D, length), prefilled(c, length).storedBytes(), "L=" + length);
            }
        }
    }
}
