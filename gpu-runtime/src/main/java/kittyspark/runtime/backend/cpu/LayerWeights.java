package kittyspark.runtime.backend.cpu;

/** One decoder layer's parameters. {@code qNorm}/{@code kNorm} are null unless the architecture has q/k norm. */
public record LayerWeights(RmsNorm inputNorm, Linear q, Linear k, Linear v, Linear o,
                           RmsNorm qNorm, RmsNorm kNorm,
                           RmsNorm postAttentionNorm, Linear gate, Linear up, Linear down) {
}
