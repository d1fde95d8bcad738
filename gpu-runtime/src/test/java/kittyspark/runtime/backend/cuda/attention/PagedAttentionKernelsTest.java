package kittyspark.runtime.backend.cuda.attention;

import java.nio.charset.StandardCharsets;

import kittyspark.runtime.backend.cuda.driver.Kernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PagedAttentionKernelsTest {
    @Test
    void decodeStepsOfTheSupportedGroupsTakeTheWarpPerChunkKernel() {
        assertEquals("attn_decode_d128_g4", PagedAttention.decodeKernel(128, 4, 6));  // Llama 3.1 8B, Qwen3 8B
        assertEquals("attn_decode_d128_g8", PagedAttention.decodeKernel(128, 8, 6));  // Llama 3.1 70B, Qwen3 32B
        assertEquals("attn_decode_d64_g3", PagedAttention.decodeKernel(64, 3, 8));    // the demo model
        assertEquals("attn_partial_d64_p8", PagedAttention.decodeKernel(64, 5, 8));
        assertEquals("attn_partial_d128_p6", PagedAttention.decodeKernel(128, 12, 6));
    }

    @Test
    void everyDecodeKernelTheBackendCanNameIsInTheShippedPtx() {
        String ptx = new String(Kernels.ptx("attention"), StandardCharsets.US_ASCII);
        for (String name : PagedAttention.decodeKernels()) {
            assertTrue(ptx.contains(".entry " + name + "("), name + " is not an entry of attention.ptx");
        }
    }
}
