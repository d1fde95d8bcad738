package kittyspark.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The specification of exactness on real tokenizers: for every line of the vendored Hugging Face
 * references (100 documents and hard strings, 5 rendered chats, 629 generated hard strings per
 * tokenizer) our ids equal the ids of Hugging Face {@code tokenizers}, with no special tokens added.
 */
class RealTokenizerReferenceTest {

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void idsEqualHuggingFaceOnEveryPublicReferenceLine(String name) {
        assertAllMatch(name, "reference-public.jsonl.xz");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void idsEqualHuggingFaceOnEveryFuzzReferenceLine(String name) {
        assertAllMatch(name, "fuzz-reference-public.jsonl.xz");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void promptIdsAddThePostProcessorsSpecialsToPlainTextAndNothingToARenderedChat(String name) {
        Tokenizer tokenizer = Tokenizer.load(TokenizerFiles.tokenizerJson(TestFiles.realTokenizerDir(name)));
        List<String> failures = new ArrayList<>();
        for (HfTokenizerReference.Line line : HfTokenizerReference.read("reference-public.jsonl.xz", name)) {
            // A rendered chat already holds its specials as text (Llama's template writes <|begin_of_text|>).
            int[] prompt = tokenizer.encode(line.text(), line.messages() == null);
            if (!Arrays.equals(line.promptIds(), prompt)) {
                failures.add(line.id() + ": " + window(line.promptIds(), 0) + " vs " + window(prompt, 0));
            }
        }
        assertEquals(List.of(), failures, name);
        assertEquals(name.equals("llama-3.1"), tokenizer.addsSpecialTokens());
    }

    private static void assertAllMatch(String name, String file) {
        Tokenizer tokenizer = Tokenizer.load(TokenizerFiles.tokenizerJson(TestFiles.realTokenizerDir(name)));
        List<HfTokenizerReference.Line> lines = HfTokenizerReference.read(file, name);
        List<String> failures = new ArrayList<>();
        for (HfTokenizerReference.Line line : lines) {
            try {
                int[] ids = tokenizer.encode(line.text());
                if (!Arrays.equals(line.ids(), ids)) {
                    int at = Arrays.mismatch(line.ids(), ids);
                    failures.add(line.id() + ": first difference at " + at + " " + window(line.ids(), at) + " vs "
                            + window(ids, at) + " text " + escape(line.text()));
                }
            } catch (RuntimeException e) {
                failures.add(line.id() + ": " + e);
            }
        }
        System.out.printf("%s %s: %d/%d lines exact%n", name, file, lines.size() - failures.size(), lines.size());
        failures.stream().limit(40).forEach(f -> System.out.println("  " + f));
        assertEquals(List.of(), failures, name + " " + file);
    }

    private static String window(int[] ids, int at) {
        return Arrays.toString(Arrays.copyOfRange(ids, Math.max(0, at - 2), Math.min(ids.length, at + 4)));
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        String cut = s.length() > 120 ? s.substring(0, 120) : s;
        cut.codePoints().forEach(cp -> b.append(cp < 0x20 || cp > 0x7E ? String.format("\\u{%X}", cp) : Character.toString(cp)));
        return b.toString();
    }
}
