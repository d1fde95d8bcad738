package kittyspark.runtime.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What callers rely on, on the demo model's tokenizer (vocab 8192, {@code <|endoftext|>} = 0). */
class TokenizerBehaviourTest {
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = Tokenizer.load(TestFiles.demoTokenizerJson());
    }

    @Test
    void endOfTextWrittenInTextEncodesToIdZero() {
        assertArrayEquals(new int[] {0}, tokenizer.encode("<|endoftext|>"));
        int[] ids = tokenizer.encode("x = 1<|endoftext|>def f():");
        int at = indexOf(ids, 0);
        assertTrue(at > 0 && at < ids.length - 1, "id 0 in the middle of " + java.util.Arrays.toString(ids));
        assertEquals("x = 1", tokenizer.decode(ids, 0, at));
        assertEquals("def f():", tokenizer.decode(ids, at + 1, ids.length));
    }

    @Test
    void textAroundSpecialTokenIsTokenizedAsIfAlone() {
        int[] left = tokenizer.encode("print(x)\n");
        int[] right = tokenizer.encode("import os");
        int[] both = tokenizer.encode("print(x)\n<|endoftext|>import os");
        int[] expected = new int[left.length + 1 + right.length];
        System.arraycopy(left, 0, expected, 0, left.length);
        System.arraycopy(right, 0, expected, left.length + 1, right.length);
        assertArrayEquals(expected, both);
    }

    @Test
    void specialTokenIsLookedUpByContentAndFlaggedSpecial() {
        assertEquals(OptionalInt.of(0), tokenizer.tokenId("<|endoftext|>"));
        assertTrue(tokenizer.isSpecial(0));
        assertFalse(tokenizer.isSpecial(1));
        assertFalse(tokenizer.isSpecial(-1));
        assertFalse(tokenizer.isSpecial(tokenizer.vocabSize()));
    }

    @Test
    void modelTokenIsLookedUpByByteLevelSpelling() {
        // "Ġ" is how the byte-level alphabet writes a space.
        OptionalInt id = tokenizer.tokenId("Ġ");
        assertTrue(id.isPresent());
        assertArrayEquals(new int[] {id.getAsInt()}, tokenizer.encode(" "));
        assertEquals(OptionalInt.empty(), tokenizer.tokenId("no such token, surely"));
    }

    @Test
    void vocabSizeCoversAllIds() {
        assertEquals(8192, tokenizer.vocabSize());
    }

    @Test
    void emptyStringEncodesToNoIds() {
        assertArrayEquals(new int[0], tokenizer.encode(""));
        assertEquals("", tokenizer.decode(new int[0]));
    }

    @ParameterizedTest(name = "round trip of {0}")
    @ValueSource(strings = {
        "汉字和日本語のテキスト、한국어",                 // CJK, no spaces between words
        "family 👨‍👩‍👧‍👦 and flag 🏳️‍🌈 and 👍🏽",       // emoji with ZWJ, variation selector, skin tone
        "שלום עולם مرحبا بالعالم",                       // RTL scripts
        "e\u0301 a\u0308\u0323 Z\u0351\u0352\u0353",    // combining marks on base letters
        "nul\u0000in\u0000the\u0000middle\u0000",       // NUL bytes
        "zero\u200Bwidth\u200Bspace\uFEFF",             // zero-width space and BOM
        "\r\n",                                         // a lone CRLF
        "line\r\nline\rline\n\n\n",                     // mixed line ends
        "many          spaces   \t\t tabs\t",           // runs of spaces and tabs
        "   ",                                          // only spaces
        "\u00A0\u2003\u3000non-breaking and wide spaces",
        "math 𝔸𝕓𝒸 and 𐍈 (outside the BMP)",
        "It's DON'T we'LL 'S 'd",                       // contractions in both cases
        "x<|endoftext|>y<|endoftext|><|endoftext|>",   // special tokens back to back
        "<|endoftext",                                  // a special token cut short is plain text
    })
    void decodeOfEncodeGivesBackTrickyUnicode(String text) {
        assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
    }

    @Test
    void loneSurrogateIsAnErrorNamingItsPositionNotAQuestionMark() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> tokenizer.encode("ab\uD83Dcd"));
        assertTrue(e.getMessage().contains("U+D83D") && e.getMessage().contains("char 2"), e.getMessage());
        assertThrows(TokenizerException.class, () -> tokenizer.encode("\uDE00 low first"));
        assertThrows(TokenizerException.class, () -> tokenizer.encode("ends high \uD83D"));
        assertEquals("😀", tokenizer.decode(tokenizer.encode("\uD83D\uDE00")));
    }

    @Test
    void decodeOfACutCharacterGivesOneReplacementPerMaximalIllFormedSubpart() {
        int[] emoji = tokenizer.encode("😀"); // four bytes, in more than one token
        assertTrue(emoji.length > 1, "the demo vocabulary has no single token for the emoji");
        assertEquals("\uFFFD", tokenizer.decode(emoji, 0, emoji.length - 1));
        // The Unicode Standard's example (Table 3-8): 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64.
        assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd", Utf8Lossy.decode(bytes(0x61, 0xF1, 0x80, 0x80, 0xE1,
                0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64), 13));
        // An encoded surrogate, an overlong form and a code point past U+10FFFF: one U+FFFD per byte.
        assertEquals("\uFFFD\uFFFD\uFFFD", Utf8Lossy.decode(bytes(0xED, 0xA0, 0x80), 3));
        assertEquals("\uFFFD\uFFFD", Utf8Lossy.decode(bytes(0xC0, 0x80), 2));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", Utf8Lossy.decode(bytes(0xF4, 0x90, 0x80, 0x80), 4));
        assertEquals("x\uFFFD", Utf8Lossy.decode(bytes(0x78, 0xE2, 0x82), 3));
        String valid = "a é € 😀 \u0000";
        byte[] utf8 = valid.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(valid, Utf8Lossy.decode(utf8, utf8.length));
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void demoTokenizerAddsNoSpecialTokens() {
        assertFalse(tokenizer.addsSpecialTokens());
        assertArrayEquals(tokenizer.encode("def f(): pass"), tokenizer.encode("def f(): pass", true));
    }

    @Test
    void decodeOfRangeDecodesThatSlice() {
        String text = "def add(a, b):\n    return a + b\n";
        int[] ids = tokenizer.encode(text);
        for (int cut = 0; cut <= ids.length; cut++) {
            assertEquals(text, tokenizer.decode(ids, 0, cut) + tokenizer.decode(ids, cut, ids.length));
        }
    }

    @Test
    void decodeOfRangeRejectsBadBounds() {
        int[] ids = tokenizer.encode("abc");
        assertThrows(IndexOutOfBoundsException.class, () -> tokenizer.decode(ids, 1, ids.length + 1));
    }

    @Test
    void decodeOfUnknownIdFailsNamingTheId() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> tokenizer.decode(new int[] {8192}));
        assertTrue(e.getMessage().contains("8192"), e.getMessage());
    }

    @Test
    void loadOfMissingFileFailsNamingThePath(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere/tokenizer.json");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void loadOfMalformedJsonFailsNamingThePath(@TempDir Path dir) throws IOException {
        Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": ");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(bad));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("JSON"), e.getMessage());
    }

    @Test
    void concurrentEncodingGivesTheSameIdsAsSerial() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            texts.add("def f" + i + "(x):\n    return x * " + i + "  # ünïcödé " + "🙂".repeat(i % 3) + "\n");
        }
        List<int[]> serial = texts.stream().map(tokenizer::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<int[]>>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runs.add(pool.submit(() -> texts.stream().map(tokenizer::encode).toList()));
            }
            for (Future<List<int[]>> run : runs) {
                List<int[]> got = run.get();
                for (int i = 0; i < texts.size(); i++) {
                    assertArrayEquals(serial.get(i), got.get(i), texts.get(i));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int indexOf(int[] ids, int id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        return -1;
    }
}
