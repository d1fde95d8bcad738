package kittyspark.runtime.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pre-tokenizer regex compiled twice: with Unicode 16.0 categories ({@code exact}) and with the
 * JVM's own ({@code jvm}). The two differ only on the code points of
 * {@link GeneralCategories}' table, so text without any of them (nearly all text) is matched with
 * the faster JVM pattern, and the answer is the same.
 */
record SplitPattern(Pattern exact, Pattern jvm) {
    static SplitPattern of(Pattern both) {
        return new SplitPattern(both, both);
    }

    Matcher matcher(String text) {
        return (exact == jvm || !GeneralCategories.anyChanged(text) ? jvm : exact).matcher(text);
    }
}
