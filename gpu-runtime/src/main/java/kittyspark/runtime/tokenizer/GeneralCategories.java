package kittyspark.runtime.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Unicode 16.0 general categories for regex classes such as {@code \p{L}} and {@code \p{N}}.
 *
 * <p>Hugging Face tokenizers match their pre-tokenizer regexes with Oniguruma, whose tables are
 * Unicode 16.0; Java 17's regex knows Unicode 13.0, so ~9,900 letters and digits added since
 * then would split differently. The resource {@value #RESOURCE} lists, as ranges, every code point
 * whose Unicode 16.0 category differs from Java 17's (almost all were unassigned in Java 17).
 * {@link #javaClass} builds a Java class from the JVM's own property plus those corrections,
 * comparing each listed code point with the running JVM's category, so a newer JVM gets the
 * same Unicode 16.0 answer. The common case stays fast: a character the JVM already places in
 * the category matches at the first test, and additions are guarded by {@code \p{Cn}}.
 */
final class GeneralCategories {
    static final String RESOURCE = "unicode-16.0-general-category-changes.txt";

    /** The two-letter categories of each name a property may be written with, keyed by its loose form. */
    private static final Map<String, Set<String>> CATEGORIES_BY_NAME = new HashMap<>();
    /** The two-letter category of each Character.getType value. */
    private static final String[] CATEGORY_OF_JAVA_TYPE = new String[32];

    /** Every code point of the table, for the quick test of whether a text needs the Unicode 16.0 classes. */
    private static final java.util.BitSet CHANGED = new java.util.BitSet();
    private static final int SMALLEST_CHANGED;
    private static final int[] TABLE_START;
    private static final int[] TABLE_END;
    private static final String[] TABLE_CATEGORY;

    static {
        Object[][] categories = {
            {"Lu", "Uppercase_Letter", Character.UPPERCASE_LETTER}, {"Ll", "Lowercase_Letter", Character.LOWERCASE_LETTER},
            {"Lt", "Titlecase_Letter", Character.TITLECASE_LETTER}, {"Lm", "Modifier_Letter", Character.MODIFIER_LETTER},
            {"Lo", "Other_Letter", Character.OTHER_LETTER}, {"Mn", "Nonspacing_Mark", Character.NON_SPACING_MARK},
            {"Mc", "Spacing_Mark", Character.COMBINING_SPACING_MARK}, {"Me", "Enclosing_Mark", Character.ENCLOSING_MARK},
            {"Nd", "Decimal_Number", Character.DECIMAL_DIGIT_NUMBER}, {"Nl", "Letter_Number", Character.LETTER_NUMBER},
            {"No", "Other_Number", Character.OTHER_NUMBER}, {"Pc", "Connector_Punctuation", Character.CONNECTOR_PUNCTUATION},
            {"Pd", "Dash_Punctuation", Character.DASH_PUNCTUATION}, {"Ps", "Open_Punctuation", Character.START_PUNCTUATION},
            {"Pe", "Close_Punctuation", Character.END_PUNCTUATION}, {"Pi", "Initial_Punctuation", Character.INITIAL_QUOTE_PUNCTUATION},
            {"Pf", "Final_Punctuation", Character.FINAL_QUOTE_PUNCTUATION}, {"Po", "Other_Punctuation", Character.OTHER_PUNCTUATION},
            {"Sm", "Math_Symbol", Character.MATH_SYMBOL}, {"Sc", "Currency_Symbol", Character.CURRENCY_SYMBOL},
            {"Sk", "Modifier_Symbol", Character.MODIFIER_SYMBOL}, {"So", "Other_Symbol", Character.OTHER_SYMBOL},
            {"Zs", "Space_Separator", Character.SPACE_SEPARATOR}, {"Zl", "Line_Separator", Character.LINE_SEPARATOR},
            {"Zp", "Paragraph_Separator", Character.PARAGRAPH_SEPARATOR}, {"Cc", "Control", Character.CONTROL},
            {"Cf", "Format", Character.FORMAT}, {"Cs", "Surrogate", Character.SURROGATE},
            {"Co", "Private_Use", Character.PRIVATE_USE}, {"Cn", "Unassigned", Character.UNASSIGNED},
        };
        Map<String, List<String>> groups = new HashMap<>();
        for (Object[] c : categories) {
            String code = (String) c[0];
            CATEGORY_OF_JAVA_TYPE[((Number) c[2]).intValue()] = code;
            CATEGORIES_BY_NAME.put(loose(code), Set.of(code));
            CATEGORIES_BY_NAME.put(loose((String) c[1]), Set.of(code));
            groups.computeIfAbsent(code.substring(0, 1), k -> new ArrayList<>()).add(code);
        }
        String[][] groupNames = {{"L", "Letter"}, {"M", "Mark"}, {"N", "Number"}, {"P", "Punctuation"},
            {"S", "Symbol"}, {"Z", "Separator"}, {"C", "Other"}};
        for (String[] g : groupNames) {
            Set<String> members = Set.copyOf(groups.get(g[0]));
            CATEGORIES_BY_NAME.put(loose(g[0]), members);
            CATEGORIES_BY_NAME.put(loose(g[1]), members);
        }
        CATEGORIES_BY_NAME.put(loose("LC"), Set.of("Lu", "Ll", "Lt"));
        CATEGORIES_BY_NAME.put(loose("Cased_Letter"), Set.of("Lu", "Ll", "Lt"));

        List<String[]> rows = readTable();
        TABLE_START = new int[rows.size()];
        TABLE_END = new int[rows.size()];
        TABLE_CATEGORY = new String[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            TABLE_START[i] = Integer.parseInt(rows.get(i)[0], 16);
            TABLE_END[i] = Integer.parseInt(rows.get(i)[1], 16);
            TABLE_CATEGORY[i] = rows.get(i)[2];
            CHANGED.set(TABLE_START[i], TABLE_END[i] + 1);
        }
        SMALLEST_CHANGED = CHANGED.isEmpty() ? Integer.MAX_VALUE : CHANGED.nextSetBit(0);
    }

    /** Whether {@code text} holds a code point whose Unicode 16.0 category differs from Java 17's. */
    static boolean anyChanged(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < SMALLEST_CHANGED) {
                continue;
            }
            int cp = Character.isHighSurrogate(c) && i + 1 < text.length() ? text.codePointAt(i) : c;
            if (CHANGED.get(cp)) {
                return true;
            }
            if (cp > 0xFFFF) {
                i++;
            }
        }
        return false;
    }

    /** The same categories as the JVM knows them (faster; see {@link SplitPattern}). */
    static String jvmClass(Set<String> categories, boolean negated) {
        return (negated ? "[^" : "[") + base(categories) + "]";
    }

    /** {@code \p{L}} for a whole group, {@code \p{Lu}} for one category: one test each, not a union of five. */
    private static String base(Set<String> categories) {
        if (categories.size() == 1) {
            return "\\p{" + categories.iterator().next() + "}";
        }
        if (categories.equals(Set.of("Lu", "Ll", "Lt"))) {
            return "\\p{LC}";
        }
        String group = categories.iterator().next().substring(0, 1);
        if (categories.equals(CATEGORIES_BY_NAME.get(loose(group)))) {
            return "\\p{" + group + "}";
        }
        StringBuilder union = new StringBuilder();
        for (String c : categories) {
            union.append("\\p{").append(c).append('}');
        }
        return union.toString();
    }

    private GeneralCategories() {
    }

    /** The categories a property name stands for (e.g. "L", "Letter", "lowercase letter"), or null if it names none. */
    static Set<String> categories(String propertyName) {
        return CATEGORIES_BY_NAME.get(loose(propertyName));
    }

    /**
     * A Java regex class matching the code points whose Unicode 16.0 category is in {@code categories}
     * (or, when {@code negated}, all others). It is a complete bracketed class, valid both on its own
     * and nested inside another class.
     */
    static String javaClass(Set<String> categories, boolean negated) {
        String base = base(categories);
        StringBuilder addedToUnassigned = new StringBuilder();
        StringBuilder addedOther = new StringBuilder();
        StringBuilder removed = new StringBuilder();
        for (int i = 0; i < TABLE_START.length; i++) {
            boolean inUnicode16 = categories.contains(TABLE_CATEGORY[i]);
            int runStart = -1;
            int runKind = 0; // 1 added to unassigned, 2 added to assigned, 3 removed
            for (int cp = TABLE_START[i]; cp <= TABLE_END[i] + 1; cp++) {
                int kind = 0;
                if (cp <= TABLE_END[i]) {
                    int jvm = Character.getType(cp);
                    boolean inJvm = categories.contains(CATEGORY_OF_JAVA_TYPE[jvm]);
                    if (inUnicode16 && !inJvm) {
                        kind = jvm == Character.UNASSIGNED ? 1 : 2;
                    } else if (!inUnicode16 && inJvm) {
                        kind = 3;
                    }
                }
                if (kind != runKind) {
                    if (runKind != 0) {
                        appendRange(runKind == 1 ? addedToUnassigned : runKind == 2 ? addedOther : removed, runStart, cp - 1);
                    }
                    runKind = kind;
                    runStart = cp;
                }
            }
        }
        StringBuilder cls = new StringBuilder("[").append(base);
        if (addedToUnassigned.length() > 0) {
            cls.append("[\\p{Cn}&&[").append(addedToUnassigned).append("]]");
        }
        if (addedOther.length() > 0) {
            cls.append('[').append(addedOther).append(']');
        }
        if (removed.length() > 0) {
            cls.append("&&[^").append(removed).append(']');
        }
        cls.append(']');
        return negated ? "[^" + cls + "]" : cls.toString();
    }

    private static void appendRange(StringBuilder out, int from, int to) {
        out.append(String.format("\\x{%X}", from));
        if (to > from) {
            out.append(String.format("-\\x{%X}", to));
        }
    }

    /** Onig and Unicode match property names ignoring case, spaces, underscores and hyphens. */
    private static String loose(String name) {
        return name.replaceAll("[\\s_-]", "").toLowerCase(Locale.ROOT);
    }

    /** Rows of "start end category" (hex code points, two-letter category), comments and blank lines skipped. */
    private static List<String[]> readTable() {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = GeneralCategories.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the tokenizer package");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                String[] f = t.split("\\s+");
                String[] range = f[0].split("\\.\\.");
                rows.add(new String[] {range[0], range.length > 1 ? range[1] : range[0], f[1]});
            }
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + ": " + e.getMessage(), e);
        }
        return rows;
    }
}
