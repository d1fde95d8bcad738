package kittyspark.runtime.checkpoint;

/**
 * Llama 3.1 style RoPE frequency scaling ({@code rope_type: llama3}).
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

    /** Rescales the inverse frequencies in place, exactly as transformers' _compute_llama3_parameters. */
    public void apply(double[] invFreq) {
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        for (int i = 0; i < invFreq.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen > lowFreqWavelen) {
                invFreq[i] = invFreq[i] / factor;
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                invFreq[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
            }
        }
    }
}
