package kittyspark.runtime.backend.cuda.gemm;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmPlanTest {
    @Test
    void upToSixteenRowsTheGemvKernelStreamsTheWeightsOneWarpPerEightColumns() {
        assertEquals(new GemmPlan("gemm_gemv_m8", 512, 1, 32, 0, 1, 4096), GemmPlan.of(1, 4096, 4096, false));
        assertEquals("gemm_gemv_m8", GemmPlan.of(8, 4096, 4096, false).kernel());
        GemmPlan p = GemmPlan.of(9, 4100, 14336, true, 1L << 30);
        assertEquals(new GemmPlan("gemm_gemv_split_m16", 513, 1, 32, 0, 1, 14336), p);
        assertTrue(p.gemv() && !p.decode(), "no split-K workspace arguments");
        assertEquals("gemm_decode_m2", GemmPlan.of(17, 4096, 4096, false).kernel());
    }

    @Test
    void withoutTheGemvKernelDecodeShapesUseTheSmallestRowTileAndWiderBlocksAsMGrows() {
        assertEquals(new GemmPlan("gemm_decode_m1", 512, 1, 256, 0, 1, 4096), GemmPlan.of(1, 4096, 4096, false, 0, 0));
        assertEquals(new GemmPlan("gemm_decode_split_m2", 256, 1, 256, 0, 1, 4096), GemmPlan.of(17, 4096, 4096, true));
        assertEquals("gemm_decode_m4", GemmPlan.of(64, 4096, 4096, false).kernel());
    }

    @Test
    void theGemvKernelTakesAtMostOneSixteenRowTile() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmPlan.of(4, 64, 64, false, 0, 17));
        assertTrue(e.getMessage().contains("at most 16 rows"), e.getMessage());
    }

    @Test
    void batchesUpTo256RowsStayOnTheDecodeKernelInSlabsOf64() {
        GemmPlan p = GemmPlan.of(256, 14336, 4096, false);
        assertEquals("gemm_decode_m4", p.kernel());
        assertEquals(4, p.gridY());
        assertEquals(448, p.gridX());
    }

    @Test
    void prefillShapesUseTheTiledKernelWithItsPipelineInDynamicSharedMemory() {
        GemmPlan plain = GemmPlan.of(2048, 6144, 4096, false);
        assertEquals(new GemmPlan("gemm_tiled_plain", 48, 16, 256, 3 * 2 * 128 * 32 * 2, 1, 4096), plain);
        GemmPlan split = GemmPlan.of(257, 100, 64, true);
        assertEquals("gemm_tiled_split", split.kernel());
        assertEquals(1, split.gridX());
        assertEquals(3, split.gridY());
        assertTrue(split.sharedBytes() > 48 * 1024, "needs the raised dynamic shared memory limit");
    }

    @Test
    void fewColumnDecodeGemmsSplitKIntoRoundAlignedRangesWithinTheWorkspace() {
        GemmPlan p = GemmPlan.of(1, 4096, 14336, false, 4L * 4096, 0);
        assertEquals(512, p.gridX());
        assertEquals(3, p.splits());
        assertEquals(4864, p.kLen());
        assertEquals(0, p.kLen() % GemmPlan.DECODE_ROUND);
        assertTrue(p.splits() * p.kLen() >= 14336 && (p.splits() - 1) * p.kLen() < 14336);
        assertEquals(2, GemmPlan.of(1, 4096, 14336, false, 2L * 4096, 0).splits(), "no more planes than the workspace holds");
        assertEquals(1, GemmPlan.of(1, 128256, 4096, false, 1L << 30, 0).splits(), "enough blocks already");
        assertEquals(1, GemmPlan.of(1, 4096, 14336, false, 1L << 30).splits(), "the GEMV kernel never splits");
        assertEquals(1, GemmPlan.of(2048, 4096, 4096, false, 1L << 30).splits(), "the tiled kernel never splits");
    }

    @Test
    void anInnerDimensionOffTheKChunkIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmPlan.of(4, 64, 48, false));
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
    }
}
