package kittyspark.runtime.backend.cpu;

import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.checkpoint.WeightTensor;

/** A checkpoint's tensors, bound to the roles the forward pass gives them. */
public record ModelWeights(ModelConfig config, WeightTensor embedding, List<LayerWeights> layers,
                           RmsNorm finalNorm, Linear lmHead) {

    public static ModelWeights from(Checkpoint ckpt, CpuKernels k) {
        ModelConfig c = ckpt.config();
        long hidden = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        WeightTensor embed = ckpt.tensor("model.embed_tokens.weight").expectShape(c.vocabSize(), hidden);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            RmsNorm qNorm = null;
            RmsNorm kNorm = null;
            if (c.architecture().qkNorm()) {
                qNorm = norm(ckpt, p + "self_attn.q_norm.weight", c.headDim(), c);
                kNorm = norm(ckpt, p + "self_attn.k_norm.weight", c.headDim(), c);
            }
            layers.add(new LayerWeights(
                    norm(ckpt, p + "input_layernorm.weight", c.hiddenSize(), c),
                    linear(ckpt, p + "self_attn.q_proj", q, hidden, c.attentionBias(), k),
                    linear(ckpt, p + "self_attn.k_proj", kv, hidden, c.attentionBias(), k),
                    linear(ckpt, p + "self_attn.v_proj", kv, hidden, c.attentionBias(), k),
                    linear(ckpt, p + "self_attn.o_proj", hidden, q, c.attentionBias(), k),
                    qNorm, kNorm,
                    norm(ckpt, p + "post_attention_layernorm.weight", c.hiddenSize(), c),
                    linear(ckpt, p + "mlp.gate_proj", c.intermediateSize(), hidden, false, k),
                    linear(ckpt, p + "mlp.up_proj", c.intermediateSize(), hidden, false, k),
                    linear(ckpt, p + "mlp.down_proj", hidden, c.intermediateSize(), false, k)));
        }
        // Tied checkpoints usually omit lm_head; some ship it anyway, and then it is the same data.
        WeightTensor head = c.tieWordEmbeddings() || !ckpt.has("lm_head.weight")
                ? embed : ckpt.tensor("lm_head.weight").expectShape(c.vocabSize(), hidden);
        if (!c.tieWordEmbeddings() && head == embed) {
            ckpt.tensor("lm_head.weight"); // fails naming the missing tensor
        }
        return new ModelWeights(c, embed, List.copyOf(layers),
                norm(ckpt, "model.norm.weight", c.hiddenSize(), c), new Linear(head, null, k));
    }

    private static RmsNorm norm(Checkpoint ckpt, String name, int dim, ModelConfig c) {
        return new RmsNorm(ckpt.tensor(name).expectShape(dim).toFloats(), c.rmsNormEps());
    }

    private static Linear linear(Checkpoint ckpt, String prefix, long out, long in, boolean bias, CpuKernels k) {
        WeightTensor w = ckpt.tensor(prefix + ".weight").expectShape(out, in);
        float[] b = bias ? ckpt.tensor(prefix + ".bias").expectShape(out).toFloats() : null;
        return new Linear(w, b, k);
    }
}
