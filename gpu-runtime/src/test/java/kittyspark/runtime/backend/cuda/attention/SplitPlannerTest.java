package kittyspark.runtime.backend.cuda.attention;

import kittyspark.runtime.backend.cuda.attention.SplitPlanner.Piece;
import kittyspark.runtime.backend.cuda.attention.SplitPlanner.Plan;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitPlannerTest {
    @Test
    void aPrefillPieceIsTiledByRowsOverAllItsVisibleKeys() {
        SplitPlanner p = new SplitPlanner(8, 528, 8, 1000);
        Plan plan = p.plan(new Piece[] {new Piece(0, 0, 20, 5)}, 20);
        assertEquals(3, plan.itemCount());
        assertArrayEquals(new int[] {0, 0, 8, 5, 0, 25, 0, 0}, plan.item(0));
        assertArrayEquals(new int[] {0, 16, 4, 21, 0, 25, 16, 0}, plan.item(2));
        for (int r = 0; r < 20; r++) {
            assertEquals(r, plan.pfirst()[r]);
            assertEquals(1, plan.nsplit()[r]);
        }
        assertEquals(20, plan.partialRows());
    }

    @Test
    void aLongDecodeRowIsSplitIntoChunkAlignedKeyRangesThatCoverItsContext() {
        SplitPlanner p = new SplitPlanner(8, 528, 8, 1000);
        Plan plan = p.plan(new Piece[] {new Piece(0, 0, 1, 8191)}, 1);
        int splits = plan.nsplit()[0];
        assertTrue(splits > 1, "a lone 8K decode row must use several blocks per KV head");
        int covered = 0;
        for (int i = 0; i < plan.itemCount(); i++) {
            int[] it = plan.item(i);
            assertEquals(covered, it[4]);
            assertTrue(it[5] - it[4] >= SplitPlanner.MIN_SPLIT_KEYS || it[5] == 8192);
            assertEquals(0, it[4] % SplitPlanner.CHUNK);
            assertEquals(i, it[6]);
            covered = it[5];
        }
        assertEquals(8192, covered);
        assertTrue(plan.itemCount() * 8 <= 528 + 8 * 32, "about the target number of blocks");
    }

    @Test
    void shortContextsAreNotSplitBelowTheMinimumSplitLength() {
        SplitPlanner p = new SplitPlanner(8, 528, 8, 1000);
        Plan plan = p.plan(new Piece[] {new Piece(0, 0, 1, 100)}, 1);
        assertEquals(1, plan.itemCount());
        assertArrayEquals(new int[] {0, 0, 1, 100, 0, 101, 0, 0}, plan.item(0));
    }

    @Test
    void manyDecodeRowsNeedNoSplitsAndEachRowFindsItsOwnPartial() {
        SplitPlanner p = new SplitPlanner(8, 528, 8, 1000);
        Piece[] pieces = new Piece[128];
        for (int i = 0; i < pieces.length; i++) {
            pieces[i] = new Piece(i, i, 1, 2000 + i);
        }
        Plan plan = p.plan(pieces, 128);
        assertEquals(128, plan.itemCount());
        for (int i = 0; i < 128; i++) {
            assertEquals(1, plan.nsplit()[i]);
            assertEquals(i, plan.pfirst()[i]);
        }
    }

    @Test
    void mixedStepsPutPrefillTilesAndDecodeSplitsSideBySide() {
        SplitPlanner p = new SplitPlanner(4, 64, 2, 1000);
        Plan plan = p.plan(new Piece[] {new Piece(0, 0, 1, 1000), new Piece(1, 1, 6, 0)}, 7);
        int decodeSplits = plan.nsplit()[0];
        assertEquals(decodeSplits + 2, plan.itemCount());
        assertEquals(decodeSplits, plan.pfirst()[1]);
        assertEquals(decodeSplits + 6, plan.partialRows());
    }

    @Test
    void splitsShrinkToFitThePartialWorkspace() {
        SplitPlanner p = new SplitPlanner(8, 100_000, 8, 40);
        Piece[] pieces = new Piece[10];
        for (int i = 0; i < 10; i++) {
            pieces[i] = new Piece(i, i, 1, 8000);
        }
        Plan plan = p.plan(pieces, 10);
        assertTrue(plan.partialRows() <= 40);
        assertEquals(4, plan.nsplit()[0]);
    }

    @Test
    void noRowIsSplitMoreTimesThanTheCombineKernelHolds() {
        SplitPlanner p = new SplitPlanner(8, 1_000_000, 1, 1_000_000);
        Plan plan = p.plan(new Piece[] {new Piece(0, 0, 1, 500_000)}, 1);
        assertTrue(plan.nsplit()[0] <= SplitPlanner.MAX_SPLITS);
    }

    @Test
    void aPlanBeyondTheWorkspaceFails() {
        SplitPlanner p = new SplitPlanner(8, 528, 8, 10);
        assertThrows(IllegalStateException.class, () -> p.plan(new Piece[] {new Piece(0, 0, 20, 0)}, 20));
    }
}
