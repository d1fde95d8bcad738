package kittyspark.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pre-tokenizer regexes of GPT-2 (ByteLevel use_regex), Qwen2/3 and Llama 3, compiled for
 * Java, cut text where Hugging Face's Oniguruma-backed Split does. Expected pieces follow the
 * leftmost-first alternation of each pattern.
 */
class TokenizerPreTokenizationTest {
    static final String QWEN_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final String SAMPLE = "Hello world's 12345  \n\n  foo";

    @Test
    void gpt2PatternKeepsDigitRunsAndLeavesOneSpaceForTheNextWord() {
        assertEquals(List.of("Hello", " world", "'s", " 12345", "  \n\n ", " foo"),
                pieces(PreTokenizer.GPT2_PATTERN, SAMPLE));
    }

    @Test
    void qwenPatternSplitsDigitsOneByOneAndEndsWhitespaceAtTheLastNewline() {
        assertEquals(List.of("Hello", " world", "'s", " ", "1", "2", "3", "4", "5", "  \n\n", " ", " foo"),
                pieces(QWEN_PATTERN, SAMPLE));
    }

    @Test
    void llama3PatternGroupsDigitsInThrees() {
        assertEquals(List.of("Hello", " world", "'s", " ", "123", "45", "  \n\n", " ", " foo"),
                pieces(LLAMA3_PATTERN, SAMPLE));
    }

    @Test
    void contractionsAreCaseInsensitiveInLlamaButNotInGpt2() {
        assertEquals(List.of("DON", "'T", " we", "'LL"), pieces(LLAMA3_PATTERN, "DON'T we'LL"));
        assertEquals(List.of("DON", "'", "T", " we", "'", "LL"), pieces(PreTokenizer.GPT2_PATTERN, "DON'T we'LL"));
    }

    @Test
    void unicodeLettersNumbersAndSpacesFollowUnicodeClasses() {
        // CJK and accented letters are \p{L}; Arabic-Indic digits are \p{N}; U+3000 is neither,
        // so like a space it may lead the next word.
        assertEquals(List.of("naïve", " 日本語", "\u3000مرحبا", " ", "٣", "٤"),
                pieces(QWEN_PATTERN, "naïve 日本語\u3000مرحبا ٣٤"));
        assertEquals(List.of("a", "\u00A0", "b"), pieces(PreTokenizer.GPT2_PATTERN, "a\u00A0b"));
    }

    @Test
    void punctuationTakesTrailingNewlinesInQwenAndLlama() {
        assertEquals(List.of("):\n", "   ", " return"), pieces(LLAMA3_PATTERN, "):\n    return"));
        assertEquals(List.of("x", ";\n\n", "y"), pieces(QWEN_PATTERN, "x;\n\ny"));
    }

    @Test
    void emojiSequenceWithJoinersIsOnePiece() {
        assertEquals(List.of("hi", " 👨\u200D👩\u200D👧"), pieces(LLAMA3_PATTERN, "hi 👨\u200D👩\u200D👧"));
    }

    @Test
    void rustLongPropertyNamesAndScriptsAreTranslated() {
        Pattern letters = RustRegex.compile("\\p{Letter}+|\\p{Han}+");
        assertTrue(letters.matcher("abcé").matches());
        assertTrue(letters.matcher("漢字").matches());
    }

    @Test
    void everyCharacterLandsInSomePiece() {
        String text = "\u0000\t x=1;\r\n\u200B😀 ";
        assertEquals(text, String.join("", pieces(QWEN_PATTERN, text)));
    }

    private static List<String> pieces(String rustPattern, String text) {
        List<String> out = new ArrayList<>();
        new PreTokenizer(List.of(new PreTokenizer.IsolatingSplit(RustRegex.compile(rustPattern))))
                .forEachPiece(text, out::add);
        return out;
    }
}
