package kittyspark.checks.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The equal-memory benchmark's bookkeeping: shapes, comparisons and the ratios its targets are stated in. */
class KittyGpuBenchTest {
    @Test
    void endToEndShapesArePromptPlusNew() {
        KittyGpuBench.E2e e = KittyGpuBench.E2e.parse(" 1024 + 7168 ");
        assertEquals(1024, e.prompt());
        assertEquals(7168, e.newTokens());
        assertEquals("1024+7168", e.key());
        assertThrows(IllegalArgumentException.class, () -> KittyGpuBench.E2e.parse("8192"));
    }

    @Test
    void variantOutputsCompareRelativeToTheLargestValueAndNonFiniteNeverPasses() {
        assertEquals(0.01, KittyGpuBench.maxRelDiff(new float[] {1f, 2.02f}, new float[] {1f, 2f}), 1e-6);
        assertEquals(Double.POSITIVE_INFINITY, KittyGpuBench.maxRelDiff(new float[] {Float.NaN}, new float[] {1f}));
    }

    @Test
    void ratiosAreEachModeOverFp16ForCapacityDecodeAndEachEndToEndShape() throws Exception {
        ObjectNode run = (ObjectNode) new ObjectMapper().readTree("""
                {"modes": {
                   "fp16":  {"max_sequences": {"8192+512": 45},  "decode_full_batch": {"tokens_per_s": 900}},
                   "kitty": {"max_sequences": {"8192+512": 270}, "decode_full_batch": {"tokens_per_s": 3600}}},
                 "e2e": [{"mode": "fp16", "prompt": 1024, "new": 7168, "tokens_per_s": 500},
                         {"mode": "kitty", "prompt": 1024, "new": 7168, "tokens_per_s": 2100},
                         {"mode": "kitty", "prompt": 7680, "new": 512, "tokens_per_s": 600}]}""");
        KittyGpuBench.ratios(run);
        var kitty = run.path("ratios_to_fp16").path("kitty");
        assertEquals(6.0, kitty.path("max_sequences_8192+512").asDouble(), 1e-9);
        assertEquals(4.0, kitty.path("decode_full_batch_tokens_per_s").asDouble(), 1e-9);
        assertEquals(4.2, kitty.path("e2e_1024+7168").asDouble(), 1e-9);
        assertFalse(kitty.has("e2e_7680+512"), "no fp16 run of that shape to compare with");
        assertTrue(run.path("ratios_to_fp16").path("kivi").isMissingNode());
    }
}
