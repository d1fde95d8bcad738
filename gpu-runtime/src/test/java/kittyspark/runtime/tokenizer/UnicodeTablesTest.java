package kittyspark.runtime.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UProperty;
import com.ibm.icu.text.FilteredNormalizer2;
import com.ibm.icu.text.Normalizer2;
import com.ibm.icu.text.UnicodeSet;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tokenizer's Unicode tables against ICU4J (Unicode 16.0): the checked-in tables are what
 * {@link UnicodeTables} generates, regex classes built from them give Unicode 16.0 categories for
 * every code point, and normalization gives what Unicode 9.0 data gives (ICU's normalizer
 * restricted to characters assigned by 9.0, which treats later ones as Hugging Face does).
 */
class UnicodeTablesTest {

    @Test
    void checkedInTablesAreWhatIcuGenerates() throws IOException {
        // The category table is relative to Java 17's Unicode data; another JVM would generate a different one.
        assumeTrue(Runtime.version().feature() == 17, "the tables are generated against Java 17");
        assertEquals(UnicodeTables.generalCategoryChanges(), resourceLines(GeneralCategories.RESOURCE));
        assertEquals(UnicodeTables.post9NormalizationCodePoints(), resourceLines(LegacyNormalization.RESOURCE));
    }

    @Test
    void letterAndNumberClassesFollowUnicode16ForEveryCodePoint() {
        List<String> wrong = new ArrayList<>();
        checkEveryCodePoint("\\p{L}", cp -> category(cp).startsWith("L"), wrong);
        checkEveryCodePoint("\\p{N}", cp -> category(cp).startsWith("N"), wrong);
        checkEveryCodePoint("[^\\r\\n\\p{L}\\p{N}]", cp -> cp != '\r' && cp != '\n' && !isLetterOrNumber(cp)
                , wrong);
        checkEveryCodePoint("[^\\s\\p{L}\\p{N}]", cp -> !UCharacter.hasBinaryProperty(cp, UProperty.WHITE_SPACE)
                && !isLetterOrNumber(cp), wrong);
        checkEveryCodePoint("\\s", cp -> UCharacter.hasBinaryProperty(cp, UProperty.WHITE_SPACE), wrong);
        assertEquals(List.of(), wrong);
    }

    @Test
    void theFastJvmPatternIsUsedOnlyWhereItAgreesWithUnicode16() {
        List<String> wrong = new ArrayList<>();
        StringBuilder unchanged = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.SURROGATE) {
                continue;
            }
            boolean changed = !UnicodeTables.javaCategory(Character.getType(cp)).equals(category(cp));
            if (GeneralCategories.anyChanged("a" + new String(Character.toChars(cp)) + "1") != changed && wrong.size() < 20) {
                wrong.add(String.format("anyChanged(U+%04X) is %s", cp, !changed));
            }
            // Every unchanged BMP code point and every 7th beyond: the two forms differ only in their classes.
            if (!changed && (cp < 0x10000 || cp % 7 == 0)) {
                unchanged.append('a').appendCodePoint(cp).append("1 ");
            }
        }
        // Over every code point whose category did not change, in letter, digit and space contexts.
        String text = unchanged.toString();
        for (String pattern : List.of(TokenizerPreTokenizationTest.QWEN_PATTERN, TokenizerPreTokenizationTest.LLAMA3_PATTERN)) {
            SplitPattern split = RustRegex.compileForSplit(pattern);
            if (!sameMatches(split.jvm(), split.exact(), text)) {
                wrong.add("the JVM and Unicode 16.0 forms of " + pattern + " split differently");
            }
        }
        assertEquals(List.of(), wrong);
    }

    private static boolean sameMatches(Pattern a, Pattern b, String s) {
        Matcher ma = a.matcher(s);
        Matcher mb = b.matcher(s);
        while (true) {
            boolean fa = ma.find();
            if (fa != mb.find()) {
                return false;
            }
            if (!fa) {
                return true;
            }
            if (ma.start() != mb.start() || ma.end() != mb.end()) {
                return false;
            }
        }
    }

    @Test
    void everyCategoryNameMatchesItsUnicode16CodePointsWhereJavaDisagrees() {
        List<String> wrong = new ArrayList<>();
        String[] names = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
            "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cn", "M", "P", "S", "Z", "C", "LC"};
        Random random = new Random(5);
        for (String name : names) {
            Set<String> members = GeneralCategories.categories(name);
            Pattern positive = RustRegex.compile("\\p{" + name + "}");
            Pattern negative = RustRegex.compile("\\P{" + name + "}");
            for (int cp : changedAndSampledCodePoints(random)) {
                boolean expected = members.contains(category(cp));
                String s = new String(Character.toChars(cp));
                if (positive.matcher(s).matches() != expected || negative.matcher(s).matches() == expected) {
                    wrong.add(String.format("\\p{%s} U+%04X (%s)", name, cp, category(cp)));
                }
            }
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(20, wrong.size())));
    }

    @Test
    void longAndLooseCategoryNamesMeanTheSameAsShortOnes() {
        assertEquals(GeneralCategories.categories("L"), GeneralCategories.categories("Letter"));
        assertEquals(GeneralCategories.categories("Lu"), GeneralCategories.categories("uppercase letter"));
        assertEquals(GeneralCategories.categories("Nd"), GeneralCategories.categories("Decimal_Number"));
        assertEquals(null, GeneralCategories.categories("Han"));
    }

    @Test
    void normalizationGivesWhatUnicode9DataGivesOnRandomMarkSequences() {
        // ICU restricted to characters of Unicode 9.0 leaves later ones alone and cuts the text at them.
        FilteredNormalizer2 nfc9 = new FilteredNormalizer2(Normalizer2.getNFCInstance(), new UnicodeSet("[:age=9.0:]"));
        FilteredNormalizer2 nfkc9 = new FilteredNormalizer2(Normalizer2.getNFKCInstance(), new UnicodeSet("[:age=9.0:]"));
        int[] pieces = pieceCodePoints();
        Random random = new Random(11);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = 1 + random.nextInt(6); k > 0; k--) {
                b.appendCodePoint(pieces[random.nextInt(pieces.length)]);
            }
            String s = b.toString();
            check(s, nfc9.normalize(s), LegacyNormalization.normalize(s, Normalizer.Form.NFC), "NFC", wrong);
            check(s, nfkc9.normalize(s), LegacyNormalization.normalize(s, Normalizer.Form.NFKC), "NFKC", wrong);
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(20, wrong.size())));
    }

    @Test
    void normalizationOfEveryCodePointBetweenMarksGivesWhatUnicode9DataGives() {
        FilteredNormalizer2 nfc9 = new FilteredNormalizer2(Normalizer2.getNFCInstance(), new UnicodeSet("[:age=9.0:]"));
        // One text of "e X U+0301 U+0323 |" for every X: "|" starts a fresh normalization segment.
        StringBuilder all = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) != Character.SURROGATE) {
                all.append('e').appendCodePoint(cp).append("\u0301\u0323|");
            }
        }
        String s = all.toString();
        String expected = nfc9.normalize(s);
        String actual = LegacyNormalization.normalize(s, Normalizer.Form.NFC);
        if (!expected.equals(actual)) {
            String[] e = expected.split("\\|", -1);
            String[] a = actual.split("\\|", -1);
            int i = 0;
            while (i < Math.min(e.length, a.length) && e[i].equals(a[i])) {
                i++;
            }
            assertEquals(i < e.length ? hex(e[i]) : "", i < a.length ? hex(a[i]) : "", "first differing segment");
        }
        assertEquals(expected.length(), actual.length());
    }

    private static void check(String input, String expected, String actual, String form, List<String> wrong) {
        if (!expected.equals(actual)) {
            wrong.add(form + " " + hex(input) + ": expected " + hex(expected) + " got " + hex(actual));
        }
    }

    /** Characters normalization cares about: combining marks, composites, Hangul, and the post-9.0 ones. */
    private static int[] pieceCodePoints() {
        List<Integer> out = new ArrayList<>(List.of('a' + 0, 'e' + 0, 'y' + 0, 0x0301, 0x0323, 0x0308, 0x00E9, 0x1100, 0x1161,
                0x11A8, 0xAC00, 0x0F73, 0x0F71, 0x0F72, 0x05B0, 0x0591, 0x3099, 0x304B, 0x1E0A, 0x2126, 0xFB01, 0x00BD));
        Normalizer2 nfd = Normalizer2.getNFDInstance();
        for (String line : UnicodeTables.post9NormalizationCodePoints()) {
            if (!line.startsWith("#")) {
                int cp = Integer.parseInt(line.split(" ")[0], 16);
                out.add(cp);
                String d = nfd.getDecomposition(cp);
                if (d != null) {
                    d.codePoints().forEach(out::add);
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<Integer> changedAndSampledCodePoints(Random random) {
        List<Integer> out = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) != Character.SURROGATE && !category(cp).equals(UnicodeTables.javaCategory(Character.getType(cp)))) {
                out.add(cp);
            }
        }
        for (int i = 0; i < 2000; i++) {
            int cp = random.nextInt(Character.MAX_CODE_POINT + 1);
            if (Character.getType(cp) != Character.SURROGATE) {
                out.add(cp);
            }
        }
        return out;
    }

    private interface CodePointTest {
        boolean test(int cp);
    }

    /** Matches the one-character class over a text of every code point and compares each with {@code expected}. */
    private static void checkEveryCodePoint(String rustClass, CodePointTest expected, List<String> wrong) {
        StringBuilder all = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) != Character.SURROGATE) { // a lone surrogate is an error before the regex runs
                all.appendCodePoint(cp);
            }
        }
        String text = all.toString();
        java.util.BitSet matched = new java.util.BitSet();
        Matcher m = RustRegex.compile(rustClass).matcher(text);
        while (m.find()) {
            matched.set(text.codePointAt(m.start()));
        }
        for (int cp = 0; cp <= Character.MAX_CODE_POINT && wrong.size() < 20; cp++) {
            if (Character.getType(cp) != Character.SURROGATE && matched.get(cp) != expected.test(cp)) {
                wrong.add(String.format("%s U+%04X (%s)", rustClass, cp, category(cp)));
            }
        }
    }

    private static boolean isLetterOrNumber(int cp) {
        char group = category(cp).charAt(0);
        return group == 'L' || group == 'N';
    }

    private static String category(int cp) {
        return UnicodeTables.icuCategory(cp);
    }

    private static List<String> resourceLines(String name) throws IOException {
        try (InputStream in = GeneralCategories.class.getResourceAsStream(name)) {
            return List.of(new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n"));
        }
    }

    private static String hex(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> b.append(String.format("%04X ", cp)));
        return b.toString().trim();
    }
}
