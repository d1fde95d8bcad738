package kittyspark.checks.cuda;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GemmShapesTest {
    @Test
    void theEightBModelsShareTheirAttentionShapesAndDifferInTheMlpAndHead() {
        List<GemmShapes.Shape> s = GemmShapes.of(List.of("llama3-8b", "qwen3-8b"));
        assertEquals(List.of("qkv 6144x4096", "o 4096x4096", "gate_up 28672x4096", "down 4096x14336", "lm_head 128256x4096",
                "gate_up 24576x4096", "down 4096x12288", "lm_head 151936x4096"),
                s.stream().map(x -> x.name() + " " + x.n() + "x" + x.k()).toList());
        assertEquals("llama3-8b qkv, qwen3-8b qkv", s.get(0).users());
        assertEquals("qwen3-8b gate_up", s.get(5).users());
        assertEquals(2L * 128256 * 4096, s.get(4).weightBytes());
    }
}
