package kittyspark.runtime.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Agreement of our scores with a Hugging Face reference, against the project's thresholds:
 * argmax agreement >= 99.5% of positions, |nll_mean - reference| <= 0.002 nats for every
 * document, greedy continuations identical for >= 95% of documents.
 */
public final class Conformance {
    public static final double MIN_ARGMAX_AGREEMENT = 0.995;
    public static final double MAX_NLL_DELTA = 0.002;
    public static final double MIN_GREEDY_MATCH = 0.95;

    private long positions;
    private long agreeing;
    private double worstNllDelta;
    private String worstDoc = "";
    private int docs;
    private int greedyCompared;
    private int greedyMatched;
    private final List<String> tokenMismatches = new ArrayList<>();
    private final List<String> greedyMismatches = new ArrayList<>();

    /** Adds one document's scores. */
    public void add(HfReference.Doc ref, DocumentScore ours) {
        docs++;
        if (!java.util.Arrays.equals(ref.tokenIds(), ours.tokenIds())) {
            tokenMismatches.add(ref.id());
        }
        int n = Math.min(ref.argmax().length, ours.argmax().length);
        for (int i = 0; i < n; i++) {
            positions++;
            if (ref.argmax()[i] == ours.argmax()[i]) {
                agreeing++;
            }
        }
        double delta = Math.abs(ref.nllMean() - ours.nllMean());
        if (docs == 1 || delta > worstNllDelta) {
            worstNllDelta = delta;
            worstDoc = ref.id();
        }
    }

    /** Adds one document's greedy continuation. */
    public void addGreedy(HfReference.Doc ref, int[] ours) {
        greedyCompared++;
        if (java.util.Arrays.equals(ref.greedy(), ours)) {
            greedyMatched++;
        } else {
            int firstDiff = 0;
            while (firstDiff < Math.min(ref.greedy().length, ours.length) && ref.greedy()[firstDiff] == ours[firstDiff]) {
                firstDiff++;
            }
            greedyMismatches.add(ref.id() + "@" + firstDiff);
        }
    }

    public double argmaxAgreement() {
        return positions == 0 ? Double.NaN : (double) agreeing / positions;
    }

    public double worstNllDelta() {
        return worstNllDelta;
    }

    public String worstDoc() {
        return worstDoc;
    }

    public double greedyMatchRate() {
        return greedyCompared == 0 ? Double.NaN : (double) greedyMatched / greedyCompared;
    }

    public List<String> tokenMismatches() {
        return List.copyOf(tokenMismatches);
    }

    /** Greedy mismatches as {@code id@firstDifferingIndex}. */
    public List<String> greedyMismatches() {
        return List.copyOf(greedyMismatches);
    }

    public boolean passes() {
        return tokenMismatches.isEmpty() && argmaxAgreement() >= MIN_ARGMAX_AGREEMENT && worstNllDelta <= MAX_NLL_DELTA
                && (greedyCompared == 0 || greedyMatchRate() >= MIN_GREEDY_MATCH);
    }

    public String summary() {
        return String.format(Locale.ROOT,
                "docs %d | token ids exact: %s | argmax agreement %.4f%% (>= %.1f%%) | worst |nll delta| %.2e nats on %s (<= %.3f)"
                        + " | greedy48 identical %d/%d (>= %.0f%%)%s | %s",
                docs, tokenMismatches.isEmpty() ? "yes" : "NO " + tokenMismatches, 100 * argmaxAgreement(),
                100 * MIN_ARGMAX_AGREEMENT, worstNllDelta, worstDoc, MAX_NLL_DELTA, greedyMatched, greedyCompared,
                100 * MIN_GREEDY_MATCH, greedyMismatches.isEmpty() ? "" : " differ: " + greedyMismatches,
                passes() ? "PASS" : "FAIL");
    }
}
