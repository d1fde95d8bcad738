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
        checkEveryCodePoint("[^\\r\\n\\p{L}\\p{N}]", cp -> cp != '\r' && cp != '\n' && !category(cp).matches("[LN].")
                , wrong);
        checkEveryCodePoint("[^\\s\\p{L}\\p{N}]", cp -> !UCharacter.hasBinaryProperty(cp, UProperty.WHITE_SPACE)
                && !category(cp).matches("[LN]."), wrong);
        checkEveryCodePoint("\\s", cp -> UCharacter.hasBinaryProperty(cp, UProperty.WHITE_SPACE), wrong);
        assertEquals(List.of(), wrong);
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
        List<String> wrong = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.SURROGATE) {
                continue;
            }
            String s = "e" + new String(Character.toChars(cp)) + "\u0301\u0323";
            check(s, nfc9.normalize(s), LegacyNormalization.normalize(s, Normalizer.Form.NFC), "NFC", wrong);
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(20, wrong.size())));
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

    private static void checkEveryCodePoint(String rustClass, CodePointTest expected, List<String> wrong) {
        Matcher m = RustRegex.compile(rustClass).matcher("");
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.SURROGATE) {
                continue; // a lone surrogate is never tokenized: it is an error before the regex runs
            }
            if (m.reset(new String(Character.toChars(cp))).matches() != expected.test(cp) && wrong.size() < 20) {
                wrong.add(String.format("%s U+%04X (%s)", rustClass, cp, category(cp)));
            }
        }
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
