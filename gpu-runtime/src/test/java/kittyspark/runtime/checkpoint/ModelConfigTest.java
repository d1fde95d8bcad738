package kittyspark.runtime.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {
    private static ModelConfig parse(String json) throws Exception {
        return ModelConfig.parse(new ObjectMapper().readTree(json), "config.json");
    }

    @Test
    void readsTheDemoQwen3Config() {
        ModelConfig c = ModelConfig.load(TestData.demoModel());
        assertEquals(Architecture.QWEN3, c.architecture());
        assertEquals(384, c.hiddenSize());
        assertEquals(6, c.numLayers());
        assertEquals(2, c.numKvHeads());
        assertEquals(64, c.headDim());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertTrue(c.tieWordEmbeddings());
        assertNull(c.ropeScaling());
    }

    @Test
    void readsLlama31RopeScalingAndTopLevelTheta() throws Exception {
        ModelConfig c = parse("""
                {"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":14336,
                 "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,
                 "rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
                 "high_freq_factor":4.0,"original_max_position_embeddings":8192},"eos_token_id":[128001,128009]}""");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(500000.0, c.ropeTheta());
        assertNotNull(c.ropeScaling());
        assertEquals(8.0, c.ropeScaling().factor());
        assertEquals(8192, c.ropeScaling().originalMaxPositions());
        assertEquals(128, c.headDim(), "head_dim is derived as hidden / heads when absent");
        assertEquals(java.util.List.of(128001, 128009), c.eosTokenIds());
    }

    @Test
    void readsRopeParametersOfTransformers5() throws Exception {
        ModelConfig c = parse("""
                {"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,
                 "num_attention_heads":4,"vocab_size":10,"rope_parameters":{"rope_type":"llama3","rope_theta":10000.0,
                 "factor":32.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}}""");
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(32.0, c.ropeScaling().factor());
        assertEquals(4, c.numKvHeads(), "no GQA: kv heads default to heads");
    }

    @Test
    void unknownArchitectureFailsNamingTheFile() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse("""
                {"architectures":["MistralForCausalLM"],"hidden_size":64}"""));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        assertTrue(e.getMessage().contains("MistralForCausalLM"), e.getMessage());
    }

    @Test
    void missingFieldFailsNamingTheKey() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse("""
                {"architectures":["Qwen3ForCausalLM"],"hidden_size":64,"num_attention_heads":4,"num_hidden_layers":1,
                 "vocab_size":10}"""));
        assertTrue(e.getMessage().contains("intermediate_size"), e.getMessage());
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesAndDividesLowOnes() {
        RopeScaling s = new RopeScaling(8.0, 1.0, 4.0, 8192);
        double[] f = {1.0, 1e-5};
        s.apply(f);
        assertEquals(1.0, f[0], "wavelength 2pi is far below 8192/4: unchanged");
        assertEquals(1e-5 / 8.0, f[1], 1e-18, "wavelength far above 8192: divided by the factor");
    }
}
