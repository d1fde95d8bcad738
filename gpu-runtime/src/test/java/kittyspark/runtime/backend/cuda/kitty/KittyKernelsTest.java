package kittyspark.runtime.backend.cuda.kitty;

import kittyspark.kvquant.KeyPageLayout;
import kittyspark.kvquant.ValuePageLayout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the Java side launches: kernel names per variant and shape, and the i8 kernel's shared memory. */
class KittyKernelsTest {
    @Test
    void eachVariantNamesItsCompiledKernel() {
        KittyKernels k = new KittyKernels(128, 4);
        assertEquals("kitty_attention_i8_d128_g4", k.attention(KittyAttentionVariant.I8));
        assertEquals("kitty_attention_bulk_d128_g4", k.attention(KittyAttentionVariant.BULK));
        assertEquals("kitty_attention_d128_g4", k.attention(KittyAttentionVariant.CP_ASYNC));
        assertEquals(KittyAttentionVariant.I8, KittyAttentionVariant.DEFAULT, "the faster kernel, proven on the GPU");
        assertEquals(32, KittyAttentionVariant.I8.threads());
        assertEquals(128, KittyAttentionVariant.BULK.threads());
    }

    @Test
    void variantsParseByTheirConfigNameAndBadNamesListTheChoices() {
        assertEquals(KittyAttentionVariant.BULK, KittyAttentionVariant.parse(" Bulk "));
        assertEquals(KittyAttentionVariant.CP_ASYNC, KittyAttentionVariant.parse("cp-async"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KittyAttentionVariant.parse("fast"));
        assertTrue(e.getMessage().contains("kitty.engine.cuda.kitty-attention"), e.getMessage());
        assertTrue(e.getMessage().contains("i8, bulk, cp-async"), e.getMessage());
    }

    @Test
    void theI8SharedMemoryHoldsOneStageOfEachRealPageAndTheOperands() {
        // Llama-3-8B kitty: D 128, group 4, 32 boosted: key page 5760 + value page 4608, one stage each;
        // B operands 16 columns x 52 words and 16 x 36 words; 2 mbarriers
        KittyKernels k = new KittyKernels(128, 4);
        assertEquals(5760, new KeyPageLayout(128, 128, 32).bytes());
        assertEquals(4608, new ValuePageLayout(128, 128).bytes());
        assertEquals(5760 + 4608 + 16 * 52 * 4 + 16 * 36 * 4 + 16, k.i8SharedBytes(32));
        // kivi: no boost; the key stage is the page (low plane and metadata)
        assertEquals(4096 + 512 + 4608 + 16 * 52 * 4 + 16 * 36 * 4 + 16, k.i8SharedBytes(0));
        // 13 boosted at D 64: the key stage keeps room for a whole k-tile of high-plane rows (32 x 32 bytes)
        KittyKernels small = new KittyKernels(64, 8);
        assertTrue(new KeyPageLayout(128, 64, 13).bytes() < 32 * (64 + 32));
        assertEquals(32 * (64 + 32) + 2560 + 24 * 28 * 4 + 512 * 8 + 16, small.i8SharedBytes(13));
        // 12 blocks of the Llama-3-8B kernel (its launch bounds) fit an H100/H200 multiprocessor
        // (228 KiB, 1 KiB reserved per block)
        assertTrue(12 * (k.i8SharedBytes(32) + 1024) <= 228 * 1024);
        assertEquals(0, k.attentionSharedBytes(KittyAttentionVariant.BULK, 32));
        assertThrows(IllegalArgumentException.class, () -> k.i8SharedBytes(65));
    }
}
