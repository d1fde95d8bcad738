package kittyspark.runtime.testing;

import java.util.List;

import kittyspark.runtime.backend.cuda.Precision;
import kittyspark.runtime.checkpoint.Architecture;
import kittyspark.runtime.checkpoint.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelShapesTest {
    @Test
    void llama3_8bHasTheShapeOfMetaLlama3_8B() {
        ModelConfig c = ModelShapes.named("llama3-8b");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(4096, c.hiddenSize());
        assertEquals(32, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(14336, c.intermediateSize());
        assertEquals(128256, c.vocabSize());
        assertEquals(500000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertNull(c.ropeScaling());
    }

    @Test
    void llama3_1bHasTheShapeOfLlama32_1BWithTiedEmbeddingsAndLlama3Rope() {
        ModelConfig c = ModelShapes.named("llama3-1b");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(2048, c.hiddenSize());
        assertEquals(16, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(8192, c.intermediateSize());
        assertEquals(128256, c.vocabSize());
        assertTrue(c.tieWordEmbeddings());
        assertNotNull(c.ropeScaling());
        assertEquals(32.0, c.ropeScaling().factor());
    }

    @Test
    void qwen3_8bHasQkNormAndAnUntiedHead() {
        ModelConfig c = ModelShapes.named("qwen3-8b");
        assertEquals(Architecture.QWEN3, c.architecture());
        assertTrue(c.architecture().qkNorm());
        assertEquals(4096, c.hiddenSize());
        assertEquals(36, c.numLayers());
        assertEquals(32, c.numHeads());
        assertEquals(8, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(12288, c.intermediateSize());
        assertEquals(151936, c.vocabSize());
        assertFalse(c.tieWordEmbeddings());
    }

    @Test
    void parameterCountsMatchThePublishedModelSizes() {
        // Totals as published on the models' Hugging Face pages (safetensors parameter count).
        assertEquals(8_030_261_248L, Precision.parameters(ModelShapes.named("llama3-8b")));
        assertEquals(1_235_814_400L, Precision.parameters(ModelShapes.named("llama3-1b")));
        assertEquals(8_190_735_360L, Precision.parameters(ModelShapes.named("qwen3-8b")));
    }

    @Test
    void everyShapeHasAKvGeometryConsistentWithItsHeads() {
        for (String name : ModelShapes.names()) {
            ModelConfig c = ModelShapes.named(name);
            assertEquals(0, c.numHeads() % c.numKvHeads(), name + ": query heads are a multiple of KV heads");
            assertEquals(c.numLayers(), c.kvGeometry().numLayers(), name);
        }
    }

    @Test
    void anUnknownNameFailsWithTheKnownNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelShapes.named("llama3-70b"));
        assertTrue(e.getMessage().contains("llama3-70b"), e.getMessage());
        for (String known : List.of("llama3-8b", "llama3-1b", "qwen3-8b")) {
            assertTrue(e.getMessage().contains(known), e.getMessage());
        }
    }
}
