package kittyspark.runtime.backend.cuda.kitty;

import kittyspark.kvquant.QuantConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** One step's layout: scratch pages, staging rows, history rows, flush jobs, decode batch. */
class KittyStepPlanTest {
    private static final QuantConfig C = QuantConfig.kitty();

    @Test
    void aFreshPromptIsAChunkWhoseScratchHoldsItAndWhoseStagingStartsAtTokenZero() {
        KittyStepPlan p = KittyStepPlan.of(C, new int[] {0}, new int[] {300}, new int[] {0}, 100, 1000);
        assertEquals(1, p.info(0, 11));
        assertEquals(0, p.info(0, 6));
        assertEquals(300, p.stageCount());
        assertEquals(0, p.histRows());
        assertEquals(19, p.pageTable().length, "ceil(300 / 16) scratch pages");
        assertEquals(2, p.keyJobCount(), "key pages at 32..159 and 160..287");
        assertEquals(1, p.valueJobCount(), "value page 32..159; 160..287 waits for the window");
        assertEquals(-1, p.info(0, 13));
    }

    @Test
    void aDecodeRowTakesOneScratchPageAddressedThroughItsPositionsPage() {
        int l0 = 1000;
        KittyStepPlan p = KittyStepPlan.of(C, new int[] {0, l0}, new int[] {5, 1}, new int[] {0, 5}, 100, 1000);
        assertEquals(0, p.info(1, 11));
        assertEquals(0, p.info(1, 13), "first decode row of the batch");
        assertEquals(1, p.decodeCount());
        // the kernels read page_table[seqPt + position / 16]: that must be the decode row's page
        assertEquals(1, p.pageTable()[p.seqPt()[1] + l0 / 16]);
        assertEquals(5, p.stageCount(), "decode rows are not staged");
    }

    @Test
    void theFlushAfterADecodeStepMakesAKeyPageExactlyWhenTheKeyBufferFills() {
        for (int l0 = 100; l0 < 700; l0++) {
            KittyStepPlan p = KittyStepPlan.of(C, new int[] {l0}, new int[] {1}, new int[] {0}, 10, 10);
            int made = KittyFlush.keyPages(C, l0 + 1) - KittyFlush.keyPages(C, l0);
            assertEquals(made, p.keyJobCount(), "at " + l0);
            assertEquals(KittyFlush.valuePages(C, l0 + 1) - KittyFlush.valuePages(C, l0), p.valueJobCount(), "at " + l0);
        }
        assertEquals(1, KittyStepPlan.of(C, new int[] {159}, new int[] {1}, new int[] {0}, 10, 10).keyJobCount());
        assertEquals(1, KittyStepPlan.of(C, new int[] {287}, new int[] {1}, new int[] {0}, 10, 10).valueJobCount());
    }

    @Test
    void aLaterChunkGathersItsWholeHistoryAndStagesFromItsFirstUnpagedValue() {
        int l0 = 300; // key pages 2 (32..287), value pages 1 (32..159)
        KittyStepPlan p = KittyStepPlan.of(C, new int[] {l0}, new int[] {100}, new int[] {0}, 100, 1000);
        assertEquals(300, p.histRows());
        assertEquals(160, p.info(0, 6), "staging base: first value not paged");
        assertEquals(400 - 160, p.stageCount());
        assertEquals(KittyFlush.keyPages(C, 400) - 2, p.keyJobCount());
        assertEquals(KittyFlush.valuePages(C, 400) - 1, p.valueJobCount());
        assertArrayEquals(new int[] {0, 1, 2}, java.util.Arrays.copyOf(p.histTok(), 3));
        assertEquals(25, p.pageTable().length, "ceil(400 / 16)");
    }

    @Test
    void aStepLargerThanTheScratchIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> KittyStepPlan.of(C, new int[] {0}, new int[] {300}, new int[] {0}, 10, 1000));
        assertThrows(IllegalArgumentException.class,
                () -> KittyStepPlan.of(C, new int[] {0}, new int[] {300}, new int[] {0}, 100, 100));
    }
}
