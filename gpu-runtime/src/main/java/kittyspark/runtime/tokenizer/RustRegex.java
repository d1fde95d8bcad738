package kittyspark.runtime.tokenizer;

import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles a pre-tokenizer regex written for Hugging Face tokenizers (Oniguruma syntax) into a
 * java.util.regex Pattern with the same meaning.
 *
 * <p>Both engines are backtracking with leftmost-first alternation, and Java already has what the
 * Qwen, Llama 3 and GPT-2 patterns use ({@code (?i:...)}, {@code \s+(?!\S)}, possessive
 * quantifiers, {@code \p{N}{1,3}}). What differs is character-class semantics and property names:
 * <ul>
 *   <li>{@code \s}, {@code \w}, {@code \d} are Unicode-aware only with UNICODE_CHARACTER_CLASS
 *       (which also makes {@code (?i)} fold Unicode case, as Oniguruma does);</li>
 *   <li>general categories ({@code \p{L}}, {@code \p{Letter}}, {@code \p{^N}}, {@code \P{Lu}}) and
 *       {@code \d} follow Unicode 16.0 as Oniguruma's do, not the JVM's older tables
 *       ({@link GeneralCategories});</li>
 *   <li>bare script names ({@code \p{Han}}) need Java's {@code Is}-prefixed spelling (scripts
 *       keep the JVM's Unicode version).</li>
 * </ul>
 */
final class RustRegex {
    private RustRegex() {
    }

    /** The pattern with Unicode 16.0 general categories, as Oniguruma matches it. */
    static Pattern compile(String rustPattern) {
        return compileJava(translate(rustPattern, true));
    }

    /** Both forms of a pre-tokenizer pattern: see {@link SplitPattern}. */
    static SplitPattern compileForSplit(String rustPattern) {
        return new SplitPattern(compile(rustPattern), compileJava(translate(rustPattern, false)));
    }

    private static Pattern compileJava(String javaPattern) {
        try {
            return Pattern.compile(javaPattern, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException("pre-tokenizer regex cannot be compiled in Java: " + e.getMessage(), e);
        }
    }

    /**
     * Rewrites property escapes and {@code \d}/{@code \D}, with Unicode 16.0 categories or (when
     * {@code unicode16} is false) the JVM's; every other character and escape is copied as is.
     */
    static String translate(String pattern, boolean unicode16) {
        StringBuilder out = new StringBuilder(pattern.length() + 64);
        int i = 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            if (c != '\\' || i + 1 >= pattern.length()) {
                out.append(c);
                i++;
                continue;
            }
            char e = pattern.charAt(i + 1);
            if ((e == 'p' || e == 'P') && i + 2 < pattern.length() && pattern.charAt(i + 2) == '{') {
                int close = pattern.indexOf('}', i + 3);
                if (close < 0) {
                    throw new TokenizerException("pre-tokenizer regex has an unclosed \\" + e + "{ at " + i + ": " + pattern);
                }
                String name = pattern.substring(i + 3, close).strip();
                boolean negated = e == 'P';
                if (name.startsWith("^")) {
                    negated = !negated;
                    name = name.substring(1).strip();
                }
                out.append(property(pattern.substring(i, close + 1), name, negated, unicode16));
                i = close + 1;
            } else if (unicode16 && (e == 'd' || e == 'D')) {
                out.append(GeneralCategories.javaClass(Set.of("Nd"), e == 'D'));
                i += 2;
            } else {
                out.append(c).append(e); // any other escape, including an escaped backslash, stays whole
                i += 2;
            }
        }
        return out.toString();
    }

    /** A general category in Unicode 16.0; otherwise the property as Java spells it (scripts with {@code Is}). */
    private static String property(String original, String name, boolean negated, boolean unicode16) {
        Set<String> categories = GeneralCategories.categories(name);
        if (categories != null) {
            return unicode16 ? GeneralCategories.javaClass(categories, negated) : GeneralCategories.jvmClass(categories, negated);
        }
        String p = negated ? "P" : "p";
        String plain = "\\" + p + "{" + name + "}";
        if (compiles(plain)) {
            return plain;
        }
        String script = "\\" + p + "{Is" + name + "}";
        return compiles(script) ? script : original; // let compile() report the original if nothing fits
    }

    private static boolean compiles(String property) {
        try {
            Pattern.compile(property, Pattern.UNICODE_CHARACTER_CLASS);
            return true;
        } catch (PatternSyntaxException e) {
            return false;
        }
    }
}
