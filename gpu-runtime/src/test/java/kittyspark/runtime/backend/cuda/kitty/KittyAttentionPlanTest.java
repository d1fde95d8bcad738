package kittyspark.runtime.backend.cuda.kitty;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Launch planning of the split-KV Kitty attention: tiles, splits, grid and workspace sizes. */
class KittyAttentionPlanTest {
    static final int H100_SMS = 132;
    static final int RESIDENT = 12;
    static final double FILL = KittyAttentionVariant.I8.fill();

    @Test
    void tilesAreTheSinkTileThenOnePerPageOrBuffer() {
        // sink 32: [0,32) is one tile, then tiles of 128 from token 32
        assertEquals(0, KittyAttentionPlan.tiles(0, 32));
        assertEquals(1, KittyAttentionPlan.tiles(1, 32));
        assertEquals(1, KittyAttentionPlan.tiles(32, 32));
        assertEquals(2, KittyAttentionPlan.tiles(33, 32));
        assertEquals(2, KittyAttentionPlan.tiles(160, 32));
        assertEquals(3, KittyAttentionPlan.tiles(161, 32));
        assertEquals(65, KittyAttentionPlan.tiles(8192, 32));
        // kivi: no sink tile
        assertEquals(1, KittyAttentionPlan.tiles(128, 0));
        assertEquals(2, KittyAttentionPlan.tiles(129, 0));
        assertEquals(64, KittyAttentionPlan.tiles(8192, 0));
    }

    @Test
    void aSingleLongSequenceIsSplitIntoOneTilePerBlockToFillTheGpu() {
        KittyAttentionPlan p = KittyAttentionPlan.plan(new int[] {8192}, 32, 8, 32, 128, H100_SMS, RESIDENT, FILL);
        assertEquals(1, p.tilesPerSplit());
        assertEquals(65, p.maxSplits());
        assertArrayEquals(new int[] {65, 8, 1}, p.attentionGrid());
        assertArrayEquals(new int[] {32, 1}, p.combineGrid());
    }

    @Test
    void aBatchGetsTheFewestSplitsThatGiveTheTargetBlocks() {
        long target = KittyAttentionPlan.targetBlocks(H100_SMS, RESIDENT, FILL);
        for (int batch : new int[] {16, 64, 100, 256}) {
            int[] lengths = new int[batch];
            Arrays.fill(lengths, 8192);
            KittyAttentionPlan p = KittyAttentionPlan.plan(lengths, 32, 8, 32, 128, H100_SMS, RESIDENT, FILL);
            long pairs = 8L * batch;
            assertTrue(pairs * p.maxSplits() >= target || p.tilesPerSplit() == 1, "batch " + batch);
            assertTrue(pairs * (p.maxSplits() - 1) < target, "batch " + batch + ": a split fewer also reaches the target");
        }
        // at 64 x 8K, i8's fill asks for two splits of 33 tiles; at 256, one split per (sequence, kv head)
        int[] b64 = new int[64];
        Arrays.fill(b64, 8192);
        KittyAttentionPlan p64 = KittyAttentionPlan.plan(b64, 32, 8, 32, 128, H100_SMS, RESIDENT, FILL);
        assertEquals(2, p64.maxSplits());
        assertEquals(33, p64.tilesPerSplit());
        int[] b256 = new int[256];
        Arrays.fill(b256, 8192);
        assertEquals(1, KittyAttentionPlan.plan(b256, 32, 8, 32, 128, H100_SMS, RESIDENT, FILL).maxSplits());
    }

    @Test
    void aKernelThatWantsWavesGetsAboutThatManyOfEvenlySizedSplits() {
        int[] lengths = new int[64];
        Arrays.fill(lengths, 8192);
        double waves = KittyAttentionVariant.BULK.fill();
        int resident = 6;
        KittyAttentionPlan p = KittyAttentionPlan.plan(lengths, 32, 8, 32, 128, H100_SMS, resident, waves);
        long blocks = (long) p.maxSplits() * 8 * 64;
        long wave = (long) H100_SMS * resident;
        assertTrue(blocks >= (waves - 1) * wave && blocks <= (waves + 1) * wave, "blocks " + blocks + " for waves of " + wave);
        // tiles per split come from dividing the tiles by the split count (rounded up), so the
        // last split of these sequences is not a small remainder
        int last = 65 - (p.maxSplits() - 1) * p.tilesPerSplit();
        assertTrue(last >= p.tilesPerSplit() / 2, "last split has " + last + " of " + p.tilesPerSplit() + " tiles");
    }

    @Test
    void theWorkspaceIsSizedForTheVariantThatSplitsMost() {
        for (KittyAttentionVariant v : KittyAttentionVariant.values()) {
            assertTrue(v.fill() > 0 && v.fill() <= KittyAttentionVariant.maxFill(), v.configName());
        }
        assertEquals(KittyAttentionVariant.BULK.fill(), KittyAttentionVariant.maxFill());
    }

    @Test
    void theSplitsOfEverySequenceCoverEachOfItsTilesExactlyOnceInsideTheGrid() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 50; trial++) {
            int[] lengths = r.ints(1 + r.nextInt(40), 1, 20000).toArray();
            int sink = r.nextBoolean() ? 32 : 0;
            KittyAttentionPlan p = KittyAttentionPlan.plan(lengths, sink, 8, 32, 128, H100_SMS, RESIDENT, FILL);
            for (int length : lengths) {
                int tiles = KittyAttentionPlan.tiles(length, sink);
                int[] seen = new int[tiles];
                for (int split = 0; split < p.maxSplits(); split++) {
                    for (int t = split * p.tilesPerSplit(); t < Math.min(tiles, (split + 1) * p.tilesPerSplit()); t++) {
                        seen[t]++;
                    }
                }
                int[] once = new int[tiles];
                Arrays.fill(once, 1);
                assertArrayEquals(once, seen, "length " + length);
                assertTrue(p.splits(length) <= p.maxSplits());
            }
        }
    }

    @Test
    void workspaceHoldsOnePartialPerSplitAndQueryHead() {
        KittyAttentionPlan p = KittyAttentionPlan.plan(new int[] {300, 5000, 40}, 32, 8, 32, 128, H100_SMS, RESIDENT, FILL);
        assertEquals(3L * 32 * p.maxSplits() * 128, p.partialAccFloats());
        assertEquals(3L * 32 * p.maxSplits() * 2, p.partialMaxSumFloats());
    }

    @Test
    void theScaleIsOneOverRootHeadDimInBaseTwo() {
        KittyAttentionPlan p = KittyAttentionPlan.plan(new int[] {10}, 32, 8, 32, 128, H100_SMS, RESIDENT, FILL);
        // exp2(s * scaleLog2) == exp(s / sqrt(128))
        assertEquals(Math.exp(3.0 / Math.sqrt(128)), Math.pow(2, 3.0 * p.scaleLog2()), 1e-6);
    }
}
