package kittyspark.runtime.sampling;

/** Softmax-family helpers over one row of logits. */
public final class LogitMath {
    private LogitMath() {
    }

    public static int argmax(float[] logits, int off, int len) {
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            if (logits[off + i] > max) {
                max = logits[off + i];
                best = i;
            }
        }
        return best;
    }

    /** log(sum(exp(x))) over the row, computed stably in double. */
    public static double logSumExp(float[] logits, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < len; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return max + Math.log(sum);
    }

    public static double logProb(float[] logits, int off, int len, int token) {
        return logits[off + token] - logSumExp(logits, off, len);
    }

    /** KL(p || q) for the distributions of two logit rows. */
    public static double kl(float[] p, int po, float[] q, int qo, int len) {
        double lp = logSumExp(p, po, len);
        double lq = logSumExp(q, qo, len);
        double kl = 0;
        for (int i = 0; i < len; i++) {
            double a = p[po + i] - lp;
            double b = q[qo + i] - lq;
            kl += Math.exp(a) * (a - b);
        }
        return Math.max(0.0, kl);
    }
}
