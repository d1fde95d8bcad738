package kittyspark.checks.bench;

import java.util.List;

import kittyspark.runtime.checkpoint.Architecture;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.testing.ModelShapes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The numbers here are worked out by hand for a tiny Llama shape: hidden 8, intermediate 16,
 * 2 layers, 2 heads of 4, 1 KV head, vocabulary 10.
 * Per layer: q 8x8=64, k 8x4=32, v 32, o 8x8=64 (192) + MLP 3x8x16=384 = 576 GEMM weights,
 * and 2x8=16 norm weights. Embedding 10x8=80.
 */
class RooflineTest {
    private static ModelConfig tiny(Architecture arch, boolean tied) {
        return new ModelConfig(arch, 8, 16, 2, 2, 1, 4, 10, 1e-6, 10000.0, null, 64, tied, false, List.of(0));
    }

    private static final ModelConfig TINY = tiny(Architecture.LLAMA, false);

    @Test
    void countsTheParametersOfATinyShape() {
        Roofline r = new Roofline(TINY, 1, 1);
        assertEquals(576, r.layerGemmParams());
        assertEquals(16, r.layerNormParams());
        // 2 x (576 + 16) layers + 80 embedding + 80 head + 8 final norm
        assertEquals(1352, r.params());
        // layers' GEMMs 2 x 576 + the head 80; the embedding gather and the norms are no GEMM
        assertEquals(1232, r.gemmParams());
    }

    @Test
    void tiedEmbeddingsAreStoredOnceButStillMultiplyAsTheHead() {
        Roofline r = new Roofline(tiny(Architecture.LLAMA, true), 1, 1);
        assertEquals(1352 - 80, r.params());
        assertEquals(1232, r.gemmParams());
    }

    @Test
    void qkNormAddsTwoHeadDimVectorsPerLayer() {
        Roofline r = new Roofline(tiny(Architecture.QWEN3, false), 1, 1);
        assertEquals(16 + 2 * 4, r.layerNormParams());
        assertEquals(1352 + 2 * 8, r.params());
    }

    @Test
    void decodeStepCountsWeightsOnceKvPerSequenceAndSmallActivations() {
        Roofline.Cost c = new Roofline(TINY, 1000, 1000).decodeStep(3, 5, 2.0);
        // all weights but the embedding table (2 x 592 + 8 + head 80 = 1272) plus 3 embedding rows of 8, in bf16
        assertEquals(2 * (1272 + 3 * 8), c.weightBytes());
        // 3 sequences x 5 tokens x 2 layers x (K and V) x 1 KV head x 4 dims x 2 bytes
        assertEquals(3 * 5 * 2 * 2 * 1 * 4 * 2, c.kvBytes());
        // per token and layer: QKV 8 in + 16 out, O 8 + 8, gate/up 8 + 32, down 16 + 8 = 104 bf16 values;
        // then 3 x 10 fp32 logits
        assertEquals(2 * 3 * 2 * 104 + 3 * 10 * 4, c.activationBytes());
        assertEquals(2592 + 480 + 1368, c.bytes());
        // 2 x 1232 x 3 GEMM FLOPs + attention 4 x 5 tokens x 2 heads x 4 dims x 2 layers x 3 sequences
        assertEquals(2 * 1232 * 3 + 4 * 5 * 2 * 4 * 2 * 3, c.flops());
    }

    @Test
    void theRooflineIsTheSlowerOfMemoryAndCompute() {
        Roofline.Cost computeBound = new Roofline(TINY, 1000, 1000).decodeStep(3, 5, 2.0);
        assertEquals(4.440, computeBound.memorySeconds(), 1e-12);
        assertEquals(8.352, computeBound.computeSeconds(), 1e-12);
        assertEquals(8.352, computeBound.seconds(), 1e-12);
        assertFalse(computeBound.memoryBound());

        Roofline.Cost memoryBound = new Roofline(TINY, 100, 1000).decodeStep(3, 5, 2.0);
        assertEquals(44.40, memoryBound.seconds(), 1e-12);
        assertTrue(memoryBound.memoryBound());
    }

    @Test
    void quantizedKvShrinksOnlyTheKvBytes() {
        Roofline r = new Roofline(TINY, 1000, 1000);
        Roofline.Cost fp16 = r.decodeStep(4, 100, 2.0);
        Roofline.Cost kitty = r.decodeStep(4, 100, 0.3125);
        assertEquals(2.0 / 0.3125, fp16.kvBytes() / kitty.kvBytes(), 1e-12);
        assertEquals(fp16.weightBytes(), kitty.weightBytes());
        assertEquals(fp16.flops(), kitty.flops());
    }

    @Test
    void prefillFlopsAreTheGemmsPerTokenPlusCausalAttention() {
        Roofline.Cost c = new Roofline(TINY, 1000, 1000).prefill(6);
        // 2 x 1232 x 6 + 2 x 6^2 x 2 heads x 4 dims x 2 layers
        assertEquals(2 * 1232 * 6 + 2 * 36 * 2 * 4 * 2, c.flops());
        // the prompt's keys and values, written once in bf16: 6 tokens x 2 layers x 2 x 4 dims x 2 bytes
        assertEquals(6 * 2 * 2 * 4 * 2, c.kvBytes());
    }

    @Test
    void llama8bDecodeIsMemoryBoundAtBatchOneAndComputeBoundAtLargeBatch() {
        // H100 figures as measured on the test machine: ~3.0 TB/s copy, ~790 TFLOP/s bf16 GEMM.
        Roofline r = new Roofline(ModelShapes.named("llama3-8b"), 3.0e12, 790e12);
        Roofline.Cost one = r.decodeStep(1, 2048, 2.0);
        assertTrue(one.memoryBound());
        // ~15 GB of bf16 weights (8.03 B parameters less the 0.53 B embedding table) over 3 TB/s
        assertEquals(5.1e-3, one.seconds(), 0.1e-3);
        assertFalse(r.decodeStep(1024, 0, 2.0).memoryBound());
    }

    @Test
    void rejectsANonPositiveMachine() {
        assertThrows(IllegalArgumentException.class, () -> new Roofline(TINY, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Roofline(TINY, 1, Double.NaN));
    }
}
