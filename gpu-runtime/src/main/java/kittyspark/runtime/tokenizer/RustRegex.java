package kittyspark.runtime.tokenizer;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles a pre-tokenizer regex written for Hugging Face tokenizers (Oniguruma / Rust syntax)
 * into a java.util.regex Pattern with the same meaning.
 *
 * <p>Both engines are backtracking with leftmost-first alternation, and Java already has what the
 * Qwen, Llama 3 and GPT-2 patterns use ({@code (?i:...)}, {@code \s+(?!\S)}, possessive
 * quantifiers, {@code \p{N}{1,3}}). What differs is character-class semantics and property names:
 * <ul>
 *   <li>{@code \s}, {@code \w}, {@code \d} are Unicode-aware only with UNICODE_CHARACTER_CLASS
 *       (which also makes {@code (?i)} fold Unicode case, as Oniguruma does);</li>
 *   <li>long category names ({@code \p{Letter}}) and bare script names ({@code \p{Han}}) need
 *       Java's short or {@code Is}-prefixed spelling.</li>
 * </ul>
 */
final class RustRegex {
    private static final Pattern PROPERTY = Pattern.compile("\\\\([pP])\\{\\s*\\^?([A-Za-z_ =]+)\\s*\\}");

    /** Unicode general category long names Java does not accept in \p{...}. */
    private static final Map<String, String> CATEGORY_LONG_NAMES = Map.ofEntries(
            Map.entry("Letter", "L"), Map.entry("Lowercase_Letter", "Ll"), Map.entry("Uppercase_Letter", "Lu"),
            Map.entry("Titlecase_Letter", "Lt"), Map.entry("Modifier_Letter", "Lm"), Map.entry("Other_Letter", "Lo"),
            Map.entry("Mark", "M"), Map.entry("Nonspacing_Mark", "Mn"), Map.entry("Spacing_Mark", "Mc"),
            Map.entry("Enclosing_Mark", "Me"), Map.entry("Number", "N"), Map.entry("Decimal_Number", "Nd"),
            Map.entry("Letter_Number", "Nl"), Map.entry("Other_Number", "No"), Map.entry("Punctuation", "P"),
            Map.entry("Symbol", "S"), Map.entry("Separator", "Z"), Map.entry("Space_Separator", "Zs"),
            Map.entry("Other", "C"), Map.entry("Control", "Cc"), Map.entry("Format", "Cf"));

    private RustRegex() {
    }

    static Pattern compile(String rustPattern) {
        String javaPattern = translateProperties(rustPattern);
        try {
            return Pattern.compile(javaPattern, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException("pre-tokenizer regex cannot be compiled in Java: " + e.getMessage(), e);
        }
    }

    private static String translateProperties(String pattern) {
        Matcher m = PROPERTY.matcher(pattern);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(javaProperty(m.group(0), m.group(1), m.group(2).trim())));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Keeps a property Java understands; otherwise tries the short category name, then a script name. */
    private static String javaProperty(String original, String pOrP, String name) {
        if (compiles(original)) {
            return original;
        }
        String negation = original.contains("{^") || original.contains("{ ^") ? "^" : "";
        String shortName = CATEGORY_LONG_NAMES.get(name);
        if (shortName != null) {
            return "\\" + pOrP + "{" + negation + shortName + "}";
        }
        String script = "\\" + pOrP + "{" + negation + "Is" + name + "}";
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
