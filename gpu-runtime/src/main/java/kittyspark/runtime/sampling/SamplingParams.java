package kittyspark.runtime.sampling;

import java.util.List;

/**
 * How to pick tokens for one request.
 *
 * @param maxNewTokens at most this many generated tokens (0 is allowed: nothing is generated)
 * @param temperature  0 means greedy
 * @param topK         0 means no top-k cut
 * @param topP         nucleus mass in (0, 1]; 1 means no cut
 * @param seed         the request's own random stream: same seed, same output, whatever the batch
 * @param stop         stop strings; the completion ends before the first occurrence
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP, long seed, List<String> stop) {
    public SamplingParams {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max_new_tokens must be >= 0, got " + maxNewTokens);
        }
        if (!(temperature >= 0.0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
        if (!(topP > 0.0 && topP <= 1.0)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty");
            }
        }
    }

    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0.0, 0, 1.0, 0L, List.of());
    }

    public boolean isGreedy() {
        return temperature == 0.0;
    }
}
