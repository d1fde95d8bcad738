package kittyspark.pipeline.executor;

import java.util.List;

/**
 * Which stop string ended a completion. The engine cuts the decoded text before the earliest
 * stop string (the first listed, among stops found at the same place) and returns the text
 * before the cut; so the stop that matched is the first listed one that starts right there.
 */
final class StopMatch {
    private StopMatch() {
    }

    /**
     * @param decoded    the whole generated text, stop string included
     * @param completion the completion the engine returned (the text before the cut)
     * @return the stop string, or null when none starts where the completion ends
     */
    static String of(String decoded, String completion, List<String> stops) {
        if (decoded == null || completion == null || !decoded.startsWith(completion)) {
            return null;
        }
        for (String s : stops) {
            if (decoded.startsWith(s, completion.length())) {
                return s;
            }
        }
        return null;
    }
}
