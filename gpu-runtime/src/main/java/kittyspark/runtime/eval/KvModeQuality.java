package kittyspark.runtime.eval;

/**
 * Quality and size of one KV mode over the decoded positions of a document set.
 *
 * @param kv                the mode, as {@code KvSettings.describe()}
 * @param nllMean           mean next-token loss (nats)
 * @param ppl               exp(nllMean)
 * @param klVsFp16          mean KL(fp16 || mode) of the next-token distributions
 * @param top1VsFp16        share of positions where the mode and fp16 pick the same token
 * @param bitsPerElement    bits per cached element of the quantized pages (data + metadata)
 * @param bitsPerElementAll bits per cached element of everything stored, full-precision regions included
 */
public record KvModeQuality(String kv, double nllMean, double ppl, double klVsFp16, double top1VsFp16,
                            double bitsPerElement, double bitsPerElementAll) {
}
