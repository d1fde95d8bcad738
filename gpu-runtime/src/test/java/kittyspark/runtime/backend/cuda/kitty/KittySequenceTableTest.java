package kittyspark.runtime.backend.cuda.kitty;

import java.util.SplittableRandom;

import kittyspark.kvquant.QuantConfig;
import kittyspark.kvquant.QuantizedKvStream;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The per-sequence metadata and page tables the attention kernel reads. */
class KittySequenceTableTest {

    @Test
    void aDecodeStepReadsThePagesTheJavaStreamHadMadeBeforeIt() {
        for (QuantConfig c : new QuantConfig[] {QuantConfig.kitty(), QuantConfig.kivi()}) {
            QuantizedKvStream stream = new QuantizedKvStream(c, 4);
            SplittableRandom r = new SplittableRandom(3);
            for (int length = 1; length <= 700; length++) {
                // the stream holds length - 1 tokens, flushed after the previous step's attention
                int[] pages = KittySequenceTable.pagesRead(c, length);
                assertEquals(stream.keyPageCount(), pages[0], "key pages at length " + length);
                assertEquals(stream.valuePageCount(), pages[1], "value pages at length " + length);
                float[] kv = new float[4];
                for (int i = 0; i < 4; i++) {
                    kv[i] = (float) r.nextDouble(-1, 1);
                }
                stream.append(kv, 0, kv, 0, 4, 1);
                stream.flush();
            }
        }
    }

    @Test
    void metadataIsEightIntsPerSequenceWithOffsetsIntoTheTwoTables() {
        KittySequenceTable t = new KittySequenceTable(new KittyFpTail(QuantConfig.kitty(), 8, 128));
        t.add(161, new int[] {7}, new int[] {}, 4);
        t.add(545, new int[] {3, 9, 11, 2}, new int[] {5, 6, 1}, 0);
        assertArrayEquals(new int[] {161, 1, 0, 0, 0, 4, 0, 0, 545, 4, 3, 1, 0, 0, 0, 0}, t.metadata());
        assertArrayEquals(new int[] {7, 3, 9, 11, 2}, t.keyTable());
        assertArrayEquals(new int[] {5, 6, 1}, t.valueTable());
        assertArrayEquals(new int[] {161, 545}, t.lengths());
    }

    @Test
    void emptyTablesStillHaveOneEntryToAllocate() {
        KittySequenceTable t = new KittySequenceTable(new KittyFpTail(QuantConfig.kitty(), 8, 128));
        t.add(20, new int[0], new int[0], 0);
        assertEquals(1, t.keyTable().length);
        assertEquals(1, t.valueTable().length);
    }

    @Test
    void pageCountsThatLeaveMoreFullPrecisionRowsThanTheRingsHoldAreRejected() {
        KittySequenceTable t = new KittySequenceTable(new KittyFpTail(QuantConfig.kitty(), 8, 128));
        // 32 + 128 + 129 tokens with one key page leaves 129 keys: more than the key ring
        assertThrows(IllegalArgumentException.class, () -> t.add(289, new int[] {1}, new int[0], 0));
        // more value pages than key pages cannot happen
        assertThrows(IllegalArgumentException.class, () -> t.add(289, new int[] {1, 2}, new int[] {1, 2, 3}, 0));
    }
}
