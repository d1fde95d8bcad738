package kittyspark.runtime.backend.cuda.kitty;

import kittyspark.kvquant.KvMemory;
import kittyspark.kvquant.QuantConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device bytes of a quantized cache, and how a budget is split into slots and page pools. */
class KittyMemoryPlanTest {
    private static final int HEADS = 8, D = 128, LAYERS = 32;

    @Test
    void pageBytesAreKvMemorysStreamBytesWithoutTheFullPrecisionRegionsForEveryHeadAndLayer() {
        for (QuantConfig c : new QuantConfig[] {QuantConfig.kitty(), QuantConfig.kivi()}) {
            KittyMemoryPlan m = new KittyMemoryPlan(c, D, HEADS, LAYERS);
            for (long t : new long[] {1, 31, 32, 159, 160, 287, 288, 2176, 8704, 33280}) {
                long kp = KittyFlush.keyPages(c, t);
                long vp = KittyFlush.valuePages(c, t);
                long fpTokens = (t - kp * c.pageSize()) + (t - vp * c.pageSize());
                long stream = KvMemory.streamBytes(c, D, t) - fpTokens * D * 2;
                assertEquals(stream * HEADS * LAYERS, m.pageBytes(t), c + " at " + t + " tokens");
            }
        }
    }

    @Test
    void aSequenceCostsItsPagesPlusOneTailSlotWhichCoversKvMemorysFullPrecisionTokens() {
        QuantConfig c = QuantConfig.kitty();
        KittyMemoryPlan m = new KittyMemoryPlan(c, D, HEADS, LAYERS);
        KittyFpTail tail = new KittyFpTail(c, HEADS, D);
        assertEquals((tail.keySlotBytes() + tail.valueSlotBytes()) * LAYERS, m.slotBytes());
        for (long t : new long[] {100, 2176, 8704}) {
            assertEquals(m.pageBytes(t) + m.slotBytes(), m.sequenceBytes(t));
            assertTrue(m.sequenceBytes(t) >= KvMemory.streamBytes(c, D, t) * HEADS * LAYERS,
                    "the fixed tail holds at least the exact full-precision regions at " + t);
        }
    }

    @Test
    void aBudgetSizedForAShapeHoldsAsManyOfThatShapeAsItsBytesAllow() {
        KittyMemoryPlan m = new KittyMemoryPlan(QuantConfig.kitty(), D, HEADS, LAYERS);
        long budget = 50L << 30;
        long ref = 8192 + 512;
        KittyMemoryPlan.Sizing s = m.size(budget, ref, 100_000);
        assertEquals(budget / m.sequenceBytes(ref), s.slots());
        assertEquals(s.slots(), m.maxSequences(s, ref));
        assertTrue(m.bytes(s) <= budget, "fits its budget");
        assertTrue(budget - m.bytes(s) < m.sequenceBytes(ref), "and leaves less than one more sequence unused");
    }

    @Test
    void slotsAreCappedByTheBatchAndTheRestGoesToPages() {
        KittyMemoryPlan m = new KittyMemoryPlan(QuantConfig.kitty(), D, HEADS, LAYERS);
        KittyMemoryPlan.Sizing s = m.size(50L << 30, 2176, 16);
        assertEquals(16, s.slots());
        assertEquals(16, m.maxSequences(s, 2176), "slots bound short sequences");
        assertTrue(m.maxSequences(s, 32768 + 512) > 0);
        assertTrue(m.bytes(s) <= 50L << 30);
    }

    @Test
    void kittyHoldsAboutFiveTimesTheFp16SequencesOfALlama8bAt8k() {
        KittyMemoryPlan m = new KittyMemoryPlan(QuantConfig.kitty(), D, HEADS, LAYERS);
        long budget = 50L << 30;
        long t = 8192 + 512;
        long fp16PerSeq = t * HEADS * D * 2 * 2 * LAYERS;
        long fp16 = budget / fp16PerSeq;
        long kitty = m.maxSequences(m.size(budget, t, 100_000), t);
        double ratio = kitty / (double) fp16;
        assertTrue(ratio > 4.5 && ratio < 6.5, "kitty/fp16 sequences at 8K: " + ratio);
    }
}
