package kittyspark.runtime.backend.cuda.kitty;

import java.util.SplittableRandom;

import kittyspark.kvquant.QuantConfig;
import kittyspark.kvquant.QuantizedKvStream;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which pages exist after each step: the same counts as the Java stream's flush. */
class KittyFlushTest {

    private static QuantizedKvStream streamOf(QuantConfig c, int tokens, int chunk) {
        QuantizedKvStream s = new QuantizedKvStream(c, 4);
        SplittableRandom r = new SplittableRandom(tokens);
        for (int fed = 0; fed < tokens; fed += chunk) {
            int n = Math.min(chunk, tokens - fed);
            float[] kv = new float[4 * n];
            for (int i = 0; i < kv.length; i++) {
                kv[i] = (float) r.nextDouble(-1, 1);
            }
            s.append(kv, 0, kv, 0, 4, n);
            s.flush();
        }
        return s;
    }

    @Test
    void pageCountsAtTheBoundariesEqualTheStreamsAfterItsFlush() {
        for (QuantConfig c : new QuantConfig[] {QuantConfig.kitty(), QuantConfig.kivi()}) {
            int s = c.sink(), p = c.pageSize(), w = c.valueWindow();
            int[] lengths = {1, Math.max(1, s - 1), Math.max(1, s), s + 1, s + p - 1, s + p, s + p + 1, s + p + w - 1, s + p + w,
                    s + p + w + 1, s + 2 * p + w, s + 5 * p + 17};
            for (int len : lengths) {
                QuantizedKvStream one = streamOf(c, len, 1);
                assertEquals(one.keyPageCount(), KittyFlush.keyPages(c, len), "key pages at L=" + len);
                assertEquals(one.valuePageCount(), KittyFlush.valuePages(c, len), "value pages at L=" + len);
                QuantizedKvStream prefill = streamOf(c, len, len);
                assertEquals(prefill.keyPageCount(), KittyFlush.keyPages(c, len), "same after a one-step prefill, L=" + len);
                assertEquals(prefill.valuePageCount(), KittyFlush.valuePages(c, len), "same after a one-step prefill, L=" + len);
            }
        }
    }

    @Test
    void kittyMakesItsFirstKeyPageAtSinkPlusOnePageAndItsFirstValuePageOneWindowLater() {
        QuantConfig c = QuantConfig.kitty();
        assertEquals(0, KittyFlush.keyPages(c, 159));
        assertEquals(1, KittyFlush.keyPages(c, 160));
        assertEquals(0, KittyFlush.valuePages(c, 287));
        assertEquals(1, KittyFlush.valuePages(c, 288));
        assertEquals(32 + 2 * 128, KittyFlush.pageStart(c, 2));
    }

    @Test
    void stagingStartsAtTheFirstValueNotYetPagedOrAtTheChunkInsideTheSink() {
        QuantConfig c = QuantConfig.kitty();
        assertEquals(0, KittyFlush.stagingBase(c, 0));
        assertEquals(20, KittyFlush.stagingBase(c, 20), "inside the sink: the chunk's own tokens");
        assertEquals(32, KittyFlush.stagingBase(c, 200), "no value page yet: everything after the sink");
        assertEquals(32 + 128, KittyFlush.stagingBase(c, 300), "one value page made at 288");
        for (int l0 = 32; l0 < 1000; l0 += 7) {
            assertTrue(KittyFlush.stagingBase(c, l0) <= KittyFlush.pageStart(c, KittyFlush.keyPages(c, l0)),
                    "staging covers every key not yet paged at l0=" + l0);
        }
    }
}
