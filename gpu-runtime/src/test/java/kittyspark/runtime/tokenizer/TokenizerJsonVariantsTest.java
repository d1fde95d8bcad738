package kittyspark.runtime.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tokenizer.json shapes of Qwen3 and Llama 3 beyond what the demo model uses: merges as
 * strings, a Split + ByteLevel sequence, ignore_merges, an NFC normalizer, added-token stripping,
 * and refusal of what is not implemented. Mostly on tiny hand-made vocabularies whose right
 * answer can be worked out by hand.
 */
class TokenizerJsonVariantsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @TempDir
    Path dir;

    @Test
    void lowestRankedPairMergesFirst() throws IOException {
        // (b,c) ranks before (a,b), so "abc" becomes a + bc, and (a,bc) is no merge.
        Tokenizer t = load(tiny(List.of("b c", "a b")));
        assertArrayEquals(ids(t, "a", "bc"), t.encode("abc"));
    }

    @Test
    void equalPairsMergeLeftmostFirst() throws IOException {
        Tokenizer t = load(tiny(List.of("a a")));
        assertArrayEquals(ids(t, "aa", "a"), t.encode("aaa"));
        assertArrayEquals(ids(t, "aa", "aa"), t.encode("aaaa"));
    }

    @Test
    void mergesWrittenAsPairsEqualMergesWrittenAsStrings() throws IOException {
        ObjectNode asPairs = tiny(List.of("b c", "a b"));
        ArrayNode pairs = NODES.arrayNode();
        pairs.add(NODES.arrayNode().add("b").add("c"));
        pairs.add(NODES.arrayNode().add("a").add("b"));
        ((ObjectNode) asPairs.get("model")).set("merges", pairs);
        assertArrayEquals(load(tiny(List.of("b c", "a b"))).encode("abcab"), load(asPairs).encode("abcab"));
    }

    @Test
    void ignoreMergesTakesAPreTokenFoundWholeInTheVocab() throws IOException {
        ObjectNode json = tiny(List.of("b c", "a b"));
        ((ObjectNode) json.get("model")).put("ignore_merges", true);
        Tokenizer t = load(json);
        assertArrayEquals(ids(t, "abc"), t.encode("abc"));
        assertArrayEquals(ids(t, "a", "bc", "a"), t.encode("abca"));
    }

    @Test
    void llamaStyleSplitThenByteLevelGivesTheSameIdsAsByteLevelWithRegex() throws IOException {
        // The demo model's ByteLevel(use_regex) rewritten the way Llama 3 files spell it.
        ObjectNode json = (ObjectNode) JSON.readTree(TestFiles.demoTokenizerJson().toFile());
        ObjectNode split = NODES.objectNode().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.set("pattern", NODES.objectNode().put("Regex", PreTokenizer.GPT2_PATTERN));
        ObjectNode byteLevel = NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", false);
        ObjectNode sequence = NODES.objectNode().put("type", "Sequence");
        sequence.set("pretokenizers", NODES.arrayNode().add(split).add(byteLevel));
        json.set("pre_tokenizer", sequence);
        ArrayNode stringMerges = NODES.arrayNode();
        json.get("model").get("merges").forEach(m -> stringMerges.add(m.get(0).asText() + " " + m.get(1).asText()));
        ((ObjectNode) json.get("model")).set("merges", stringMerges);

        Tokenizer demo = Tokenizer.load(TestFiles.demoTokenizerJson());
        Tokenizer rewritten = load(json);
        String text = "import numpy as np\n\n\ndef f(x):  # ünïcode 漢字 🙂\n    return x ** 2\t\n";
        assertArrayEquals(demo.encode(text), rewritten.encode(text));
    }

    @Test
    void nfcNormalizerMakesDecomposedAndComposedTextEncodeAlike() throws IOException {
        ObjectNode json = tiny(List.of());
        json.set("normalizer", NODES.objectNode().put("type", "NFC"));
        Tokenizer t = load(json);
        assertArrayEquals(t.encode("caf\u00E9"), t.encode("cafe\u0301"));
    }

    @Test
    void addedTokenWithLstripAndRstripSwallowsSurroundingWhitespace() throws IOException {
        ObjectNode json = tiny(List.of());
        ObjectNode mask = NODES.objectNode().put("id", 1000).put("content", "<mask>").put("special", true)
                .put("single_word", false).put("lstrip", true).put("rstrip", true).put("normalized", false);
        ((ArrayNode) json.get("added_tokens")).add(mask);
        Tokenizer t = load(json);
        assertArrayEquals(ids(t, "a", "<mask>", "b"), t.encode("a  <mask> b"));
    }

    @Test
    void longestAddedTokenWinsAtAPosition() throws IOException {
        ObjectNode json = tiny(List.of());
        ArrayNode added = (ArrayNode) json.get("added_tokens");
        added.add(NODES.objectNode().put("id", 1000).put("content", "<s>").put("special", true));
        added.add(NODES.objectNode().put("id", 1001).put("content", "<s>>").put("special", true));
        Tokenizer t = load(json);
        assertArrayEquals(new int[] {1001, ids(t, "a")[0]}, t.encode("<s>>a"));
    }

    @Test
    void unsupportedModelTypeFailsNamingFileAndType() throws IOException {
        ObjectNode json = tiny(List.of());
        ((ObjectNode) json.get("model")).put("type", "Unigram");
        Path file = write(json);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("Unigram"), e.getMessage());
    }

    @Test
    void mergeOfUnknownTokenFailsNamingTheMerge() throws IOException {
        Path file = write(tiny(List.of("a z")));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("merge #0"), e.getMessage());
    }

    @Test
    void byteMissingFromTheVocabFailsWhenEncoded() throws IOException {
        ObjectNode json = tiny(List.of());
        ((ObjectNode) json.get("model").get("vocab")).remove("z");
        Tokenizer t = load(json);
        TokenizerException e = assertThrows(TokenizerException.class, () -> t.encode("z"));
        assertTrue(e.getMessage().contains("0x7A"), e.getMessage());
    }

    @Test
    void templatePostProcessorAddsItsSpecialTokensOnlyWhenAsked() throws IOException {
        ObjectNode json = tiny(List.of("a b"));
        json.set("post_processor", JSON.readTree("""
                {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing",
                 "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                            {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                 "special_tokens": {"<s>": {"id": "<s>", "ids": [300], "tokens": ["<s>"]},
                                    "</s>": {"id": "</s>", "ids": [301], "tokens": ["</s>"]}}}]}"""));
        Tokenizer t = load(json);
        int[] plain = t.encode("ab");
        assertArrayEquals(ids(t, "ab"), plain);
        assertArrayEquals(new int[] {300, plain[0], 301}, t.encode("ab", true));
        assertTrue(t.addsSpecialTokens());
    }

    @Test
    void bertPostProcessorPutsClsBeforeAndSepAfter() throws IOException {
        ObjectNode json = tiny(List.of());
        json.set("post_processor", JSON.readTree("{\"type\": \"BertProcessing\", \"sep\": [\"c\", 99], \"cls\": [\"a\", 97]}"));
        assertArrayEquals(new int[] {97, 98, 99}, load(json).encode("b", true));
    }

    @Test
    void unsupportedPostProcessorFailsNamingItsType() throws IOException {
        ObjectNode json = tiny(List.of());
        json.set("post_processor", NODES.objectNode().put("type", "Madeup"));
        TokenizerException e = assertThrows(TokenizerException.class, () -> load(json));
        assertTrue(e.getMessage().contains("post_processor type Madeup"), e.getMessage());
    }

    /** A byte-level BPE: the 256 single bytes, a few multi-letter tokens over a, b, c, and the given merges. */
    private static ObjectNode tiny(List<String> merges) {
        ObjectNode vocab = NODES.objectNode();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevelAlphabet.charOf((byte) b)), b);
        }
        String[] tokens = {"aa", "ab", "bc", "abc"};
        for (int i = 0; i < tokens.length; i++) {
            vocab.put(tokens[i], 256 + i);
        }
        ArrayNode mergeArray = NODES.arrayNode();
        merges.forEach(mergeArray::add);
        ObjectNode model = NODES.objectNode().put("type", "BPE");
        model.set("vocab", vocab);
        model.set("merges", mergeArray);
        ObjectNode root = NODES.objectNode();
        root.set("added_tokens", NODES.arrayNode());
        root.set("normalizer", NODES.nullNode());
        root.set("pre_tokenizer", NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("use_regex", true));
        root.set("decoder", NODES.objectNode().put("type", "ByteLevel"));
        root.set("model", model);
        return root;
    }

    private Tokenizer load(JsonNode json) throws IOException {
        return Tokenizer.load(write(json));
    }

    private Path write(JsonNode json) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "tokenizer", ".json"), JSON.writeValueAsString(json));
    }

    private static int[] ids(Tokenizer t, String... tokens) {
        int[] out = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = t.tokenId(tokens[i]).orElseThrow();
        }
        return out;
    }
}
