package kittyspark.runtime.backend.cuda.kitty;

import java.util.HashSet;
import java.util.Set;

import kittyspark.kvquant.QuantConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fp16 sink + key ring + value ring of a sequence slot. */
class KittyFpTailTest {
    static final KittyFpTail KITTY = new KittyFpTail(QuantConfig.kitty(), 8, 128);

    @Test
    void ringsCoverTheLongestFullPrecisionRunsAsWholePages() {
        assertEquals(256, KITTY.valueRing()); // W + P = 256, already a multiple of P
        assertEquals(32 + 128, KITTY.keyRows());
        assertEquals(32 + 256, KITTY.valueRows());
        assertEquals(256, new KittyFpTail(new QuantConfig(128, 0.25, 32, 100), 8, 128).valueRing()); // 228 -> 256
    }

    @Test
    void everyFullPrecisionTokenADecodeStepReadsHasItsOwnRow() {
        for (QuantConfig c : new QuantConfig[] {QuantConfig.kitty(), QuantConfig.kivi()}) {
            KittyFpTail tail = new KittyFpTail(c, 8, 128);
            for (int length = 1; length < 1200; length++) {
                int[] pages = KittySequenceTable.pagesRead(c, length);
                int s = Math.min(c.sink(), length);
                Set<Integer> keyRows = new HashSet<>();
                Set<Integer> valueRows = new HashSet<>();
                for (int t = 0; t < length; t++) {
                    if (t < s || t >= s + pages[0] * c.pageSize()) {
                        assertTrue(keyRows.add(tail.keyRow(t)), "key row reused at length " + length + " token " + t);
                    }
                    if (t < s || t >= s + pages[1] * c.pageSize()) {
                        assertTrue(valueRows.add(tail.valueRow(t)), "value row reused at length " + length);
                    }
                }
                keyRows.forEach(r -> assertTrue(r < tail.keyRows()));
                valueRows.forEach(r -> assertTrue(r < tail.valueRows()));
            }
        }
    }

    @Test
    void theNextPageIsAlwaysPConsecutiveRows() {
        for (int page = 0; page < 20; page++) {
            assertEquals(32, KITTY.keyPageFirstRow(page));
            int first = KITTY.valuePageFirstRow(page);
            for (int t = 0; t < 128; t++) {
                assertEquals(first + t, KITTY.valueRow(32 + page * 128 + t));
            }
        }
    }

    @Test
    void offsetsAreSlotMajorThenRowThenHead() {
        assertEquals(2L * 8 * 128, KITTY.tokenStride() * 2L);
        assertEquals((3L * 160 + 5) * 8 * 128 * 2, KITTY.keyOffset(3, 5));
        assertEquals((3L * 288 + 5) * 8 * 128 * 2, KITTY.valueOffset(3, 5));
        assertEquals(160L * 8 * 128 * 2, KITTY.keySlotBytes());
    }
}
