package kittyspark.checks.bench;

import kittyspark.runtime.checkpoint.ModelConfig;

/**
 * The floor under a decode step or a prefill of a model shape on a machine: the larger of
 * bytes moved over the measured copy bandwidth and FLOPs over the peak matrix throughput.
 * Benchmarks report measured time over this floor.
 *
 * <p>What is counted, and why:
 * <ul>
 * <li>Weights are bf16 (2 bytes) and read once per step, whatever the batch: every layer's
 *     projections and norms, the final norm and the LM head. The embedding table is not read
 *     whole (it is a gather), only the rows of the step's tokens; with tied embeddings the
 *     LM head still reads the whole table, so it is counted as the LM head.</li>
 * <li>The KV cache: each of B sequences reads its L cached tokens' keys and values in every
 *     layer, at the given bytes per element (2 for fp16/bf16, ~0.33 for Kitty's ~2.6 bits).</li>
 * <li>Activations (small next to weights): every GEMM's input read once and output written
 *     once in bf16 per token and layer, plus the fp32 logits.</li>
 * <li>FLOPs: 2 per GEMM weight per token (the layers' projections and the LM head; not the
 *     embedding gather, not the norms), plus attention: 4 * L * heads * headDim per layer and
 *     decoding token (QK^T and PV), or 2 * N^2 * heads * headDim per layer for a causal
 *     prefill of N tokens (half of the full N x N).</li>
 * </ul>
 */
public final class Roofline {
    private static final int WEIGHT_BYTES = 2;
    private static final int ACTIVATION_BYTES = 2;
    private static final int LOGIT_BYTES = 4;

    private final ModelConfig shape;
    private final double copyBytesPerSecond;
    private final double peakFlopsPerSecond;

    /**
     * @param copyBytesPerSecond measured device copy bandwidth, counting bytes read plus written
     * @param peakFlopsPerSecond measured bf16 matrix throughput (e.g. a large GEMM)
     */
    public Roofline(ModelConfig shape, double copyBytesPerSecond, double peakFlopsPerSecond) {
        if (!(copyBytesPerSecond > 0) || !(peakFlopsPerSecond > 0)) {
            throw new IllegalArgumentException("bandwidth and peak must be positive: " + copyBytesPerSecond + ", " + peakFlopsPerSecond);
        }
        this.shape = shape;
        this.copyBytesPerSecond = copyBytesPerSecond;
        this.peakFlopsPerSecond = peakFlopsPerSecond;
    }

    /** Bytes moved, FLOPs done, and the floor time they imply. */
    public record Cost(double weightBytes, double kvBytes, double activationBytes, double flops,
                       double memorySeconds, double computeSeconds) {
        public double bytes() {
            return weightBytes + kvBytes + activationBytes;
        }

        /** The roofline: no implementation does the work faster than this. */
        public double seconds() {
            return Math.max(memorySeconds, computeSeconds);
        }

        public boolean memoryBound() {
            return memorySeconds >= computeSeconds;
        }
    }

    /** Weights of one decoder layer that are GEMM operands (projections, MLP), biases included. */
    public long layerGemmParams() {
        ModelConfig c = shape;
        long h = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long attention = h * q + 2 * h * kv + q * h;
        long bias = c.attentionBias() ? q + 2 * kv : 0;
        long mlp = 3 * h * c.intermediateSize();
        return attention + bias + mlp;
    }

    /** Norm weights of one layer: two RMSNorms, plus the per-head q/k norms where the architecture has them. */
    public long layerNormParams() {
        return 2L * shape.hiddenSize() + (shape.architecture().qkNorm() ? 2L * shape.headDim() : 0);
    }

    public long embeddingParams() {
        return (long) shape.vocabSize() * shape.hiddenSize();
    }

    /** The parameters of the checkpoint, as its safetensors count them (a tied head counted once). */
    public long params() {
        long layers = shape.numLayers() * (layerGemmParams() + layerNormParams());
        long head = shape.tieWordEmbeddings() ? 0 : embeddingParams();
        return layers + embeddingParams() + head + shape.hiddenSize();
    }

    /** The weights that do 2 FLOPs per token: every layer's GEMMs and the LM head (tied or not). */
    public long gemmParams() {
        return shape.numLayers() * layerGemmParams() + embeddingParams();
    }

    /** Bytes of weights one step reads, for {@code tokens} tokens: all but the embedding table, plus its rows. */
    public double weightBytes(int tokens) {
        long readWhole = shape.numLayers() * (layerGemmParams() + layerNormParams()) + shape.hiddenSize() + embeddingParams();
        return WEIGHT_BYTES * ((double) readWhole + (double) tokens * shape.hiddenSize());
    }

    /** Bytes of activations for {@code tokens} tokens: each GEMM's input and output once, and the logits. */
    public double activationBytes(int tokens, int logitRows) {
        ModelConfig c = shape;
        long h = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long i = c.intermediateSize();
        long perLayer = (h + q + 2 * kv) // QKV projection: hidden in, q/k/v out
                + (q + h) // output projection
                + (h + 2 * i) // gate and up projections
                + (i + h); // down projection
        return ACTIVATION_BYTES * (double) tokens * c.numLayers() * perLayer
                + (double) logitRows * c.vocabSize() * LOGIT_BYTES;
    }

    /**
     * One decode step of {@code batch} sequences, each with {@code context} cached tokens held at
     * {@code kvBytesPerElement} bytes per key/value element.
     */
    public Cost decodeStep(int batch, int context, double kvBytesPerElement) {
        ModelConfig c = shape;
        double kvBytes = (double) batch * context * c.numLayers() * 2.0 * c.numKvHeads() * c.headDim() * kvBytesPerElement;
        double flops = 2.0 * gemmParams() * batch
                + 4.0 * context * c.numHeads() * c.headDim() * c.numLayers() * batch;
        return cost(weightBytes(batch), kvBytes, activationBytes(batch, batch), flops);
    }

    /**
     * A prefill of one {@code tokens}-token prompt: causal attention in full precision, the LM
     * head over every position (as a plain forward computes it), the prompt's keys and values
     * written once in bf16.
     */
    public Cost prefill(int tokens) {
        ModelConfig c = shape;
        double kvWritten = (double) tokens * c.numLayers() * 2.0 * c.numKvHeads() * c.headDim() * WEIGHT_BYTES;
        double flops = 2.0 * gemmParams() * tokens
                + 2.0 * tokens * (double) tokens * c.numHeads() * c.headDim() * c.numLayers();
        return cost(weightBytes(tokens), kvWritten, activationBytes(tokens, tokens), flops);
    }

    private Cost cost(double weightBytes, double kvBytes, double activationBytes, double flops) {
        double bytes = weightBytes + kvBytes + activationBytes;
        return new Cost(weightBytes, kvBytes, activationBytes, flops, bytes / copyBytesPerSecond, flops / peakFlopsPerSecond);
    }
}
