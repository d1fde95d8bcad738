package kittyspark.runtime.backend.cuda.attention;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import jcuda.driver.CUdeviceptr;

import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.testing.ModelShapes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PagedAttentionKernelsTest {
    @Test
    void decodeStepsOfTheSupportedGroupsTakeTheWarpPerChunkKernel() {
        // bf16 mode: the tensor-core decode kernel
        assertEquals("attn_decode_tc_d128_g4", PagedAttention.decodeKernel(128, 4, 6, false));  // Llama 3.1 8B, Qwen3 8B
        assertEquals("attn_decode_tc_d128_g8", PagedAttention.decodeKernel(128, 8, 6, false));  // Llama 3.1 70B, Qwen3 32B
        // split mode: the fp32 one
        assertEquals("attn_decode_d128_g4", PagedAttention.decodeKernel(128, 4, 6, true));
        assertEquals("attn_decode_d64_g3", PagedAttention.decodeKernel(64, 3, 8, true));       // the demo model
        // groups without a decode kernel take the staged prompt kernel in either mode
        assertEquals("attn_partial_d64_p8", PagedAttention.decodeKernel(64, 5, 8, false));
        assertEquals("attn_partial_d128_p6", PagedAttention.decodeKernel(128, 12, 6, true));
    }

    @Test
    void everyDecodeKernelTheBackendCanNameIsInTheShippedPtx() {
        String ptx = new String(Kernels.ptx("attention"), StandardCharsets.US_ASCII);
        for (String name : PagedAttention.decodeKernels()) {
            assertTrue(ptx.contains(".entry " + name + "("), name + " is not an entry of attention.ptx");
        }
    }

    @Test
    void twoTensorCorePrefillBlocksFitOneMultiprocessorAtEveryHeadDim() {
        assertEquals(75_776, PagedAttention.tensorCoreSharedBytes(128));  // 2 x 64 x (160 + 136) halves
        for (int d : new int[] {32, 64, 128}) {
            assertTrue(2 * PagedAttention.tensorCoreSharedBytes(d) <= 227 * 1024, "head_dim " + d);
        }
    }

    @Test
    void threeTensorCoreDecodeBlocksFitOneMultiprocessorAtEveryHeadDim() {
        // 4 warps x (32 keys + 32 values) x 136 halves, then 4 warps' (max, sum) of 8 heads
        assertEquals(4 * 2 * 32 * 136 * 2 + 256, PagedAttention.decodeTensorCoreSharedBytes(128));
        for (int d : new int[] {32, 64, 128}) {
            // the kernel's launch bounds ask for 3 blocks per multiprocessor (228 KiB, 1 KiB reserved per block)
            assertTrue(3 * (PagedAttention.decodeTensorCoreSharedBytes(d) + 1024) <= 228 * 1024, "head_dim " + d);
            // the warps' merge reuses the stages: 4 warps x 8 heads x head_dim floats
            assertTrue(4 * 8 * d * 4 <= 4 * 2 * 32 * (d + 8) * 2, "head_dim " + d);
        }
    }

    /** The planner side of the 8B model's attention (no device: planning only reads the shape). */
    private static PagedAttention llama8b(boolean split) {
        return new PagedAttention(ModelShapes.named("llama3-8b"), null, split, 4 * 132, 100_000, new CUdeviceptr(), new CUdeviceptr());
    }

    @Test
    void aDecodeOnlyStepIsOneLaunchOfTheDecodeKernel() {
        SplitPlanner.Piece[] pieces = new SplitPlanner.Piece[64];
        for (int i = 0; i < 64; i++) {
            pieces[i] = new SplitPlanner.Piece(i, i, 1, 8000 + i);
        }
        PagedAttention.Launch l = llama8b(false).plan(pieces, 64);
        assertEquals(1, l.parts().size());
        assertEquals("attn_decode_tc_d128_g4", l.parts().get(0).kernel());
        assertEquals(l.plan().itemCount(), l.parts().get(0).items());
        assertTrue(l.plan().nsplit()[0] > 1, "64 rows of 8K keys are split to fill the GPU several times over");
    }

    @Test
    void oneRowAt2kStillSpreadsOverTheMultiprocessorsInSplitsOfOneChunkPerWarp() {
        PagedAttention.Launch l = llama8b(false).plan(new SplitPlanner.Piece[] {new SplitPlanner.Piece(0, 0, 1, 2047)}, 1);
        int splits = l.plan().nsplit()[0];
        assertEquals(16, splits, "2048 keys in splits of 128");
        assertTrue(splits * 8 >= 128, "blocks (splits x 8 kv heads) for 132 multiprocessors");
        for (int i = 0; i < splits; i++) {
            int[] it = l.plan().item(i);
            assertEquals(128, it[5] - it[4]);
            assertEquals(0, it[4] % SplitPlanner.CHUNK, "the decode kernel starts its chunks on a multiple of 32");
        }
    }

    @Test
    void aMixedStepRunsItsPromptTilesAndItsDecodeRowsAsTwoLaunchesWithDisjointPartials() {
        for (boolean split : new boolean[] {false, true}) {
            // rows 0..2: decode rows at long contexts; rows 3..202: one 200-token prompt chunk
            SplitPlanner.Piece[] pieces = {new SplitPlanner.Piece(0, 0, 1, 4000), new SplitPlanner.Piece(1, 1, 1, 9000),
                    new SplitPlanner.Piece(2, 2, 1, 30), new SplitPlanner.Piece(3, 3, 200, 100)};
            PagedAttention.Launch l = llama8b(split).plan(pieces, 203);
            assertEquals(2, l.parts().size());
            PagedAttention.Part prompt = l.parts().get(0);
            PagedAttention.Part decode = l.parts().get(1);
            assertEquals(split ? "attn_partial_d128_p6" : "attn_prefill_tc_d128", prompt.kernel());
            assertEquals(split ? 8 : 32, prompt.blocksPerItem(), "fp32 blocks take a KV head's group, tensor-core blocks one query head");
            assertEquals(split ? "attn_decode_d128_g4" : "attn_decode_tc_d128_g4", decode.kernel());
            assertEquals(prompt.items(), decode.firstItem());
            assertEquals(l.plan().itemCount(), prompt.items() + decode.items());
            for (int i = 0; i < prompt.items(); i++) {
                assertTrue(l.plan().item(i)[2] > 1, "prompt items come first");
            }
            Set<Integer> partials = new HashSet<>();
            for (int i = decode.firstItem(); i < l.plan().itemCount(); i++) {
                int[] it = l.plan().item(i);
                assertEquals(1, it[2], "then the decode items");
                assertEquals(0, it[4] % 32, "decode key ranges start on a pair of pages");
                assertTrue(partials.add(it[6]));
            }
            for (int r = 0; r < 203; r++) {
                for (int s = 0; s < l.plan().nsplit()[r]; s++) {
                    int row = l.plan().pfirst()[r] + s;
                    assertTrue(r < 3 ? partials.contains(row) : row >= 0 && !partials.contains(row),
                            "row " + r + " reads its own partials, which no other row writes");
                }
            }
            assertTrue(l.plan().nsplit()[1] > 1, "a 9K decode row in a mixed step is still split over its keys");
            assertEquals(200 + partials.size(), l.plan().partialRows());
        }
    }
}
