package kittyspark.runtime.engine;

import java.util.List;
import java.util.Set;

/**
 * When a sequence ends: an end-of-sequence token, a stop string in the decoded text, its token
 * budget, or the model's context.
 */
final class StopRules {
    private final Set<Integer> eosIds;
    private final int contextLimit;

    StopRules(Set<Integer> eosIds, int contextLimit) {
        this.eosIds = Set.copyOf(eosIds);
        this.contextLimit = contextLimit;
    }

    boolean isEos(int token) {
        return eosIds.contains(token);
    }

    boolean atLimit(int promptTokens, int generated, int maxNewTokens) {
        return generated >= maxNewTokens || promptTokens + generated >= contextLimit;
    }

    /** Index of the earliest stop string in {@code text}, or -1. */
    static int firstStop(String text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
