package kittyspark.runtime.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.tokenizer.AddedTokens.AddedToken;

/**
 * Reads a Hugging Face {@code tokenizer.json} into the parts of a {@link Tokenizer}. Anything
 * it does not implement exactly (another model type, normalizer, pre-tokenizer or decoder) is
 * refused with a message naming the file and the setting, rather than tokenized differently.
 */
final class TokenizerJsonLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    private TokenizerJsonLoader(Path file) {
        this.file = file;
    }

    static Tokenizer load(Path file) {
        return new TokenizerJsonLoader(file).load();
    }

    private Tokenizer load() {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file + ": tokenizer file not found");
        }
        JsonNode root;
        try (var in = TokenizerFiles.open(file)) {
            root = JSON.readTree(in);
        } catch (IOException e) {
            throw fail("not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw fail("not a tokenizer.json object");
        }
        JsonNode model = root.path("model");
        checkModel(model);
        Map<String, Integer> vocab = readVocab(model.path("vocab"));
        List<AddedToken> added = readAddedTokens(root.path("added_tokens"));
        TextNormalizer normalizer = new TextNormalizer(readNormalizer(root.path("normalizer"), new ArrayList<>()));
        PreTokenizer preTokenizer = readPreTokenizer(root.path("pre_tokenizer"));
        checkDecoder(root.path("decoder"));
        Vocabulary vocabulary = buildVocabulary(vocab, added);
        PostProcessor postProcessor = readPostProcessor(root.path("post_processor"), vocabulary);

        BpeMerger bpe = new BpeMerger(byteIds(vocab), readMerges(model.path("merges"), vocab),
                model.path("ignore_merges").asBoolean(false) ? Map.copyOf(vocab) : null);
        List<AddedToken> rawMatched = new ArrayList<>();
        List<AddedToken> normalizedMatched = new ArrayList<>();
        for (AddedToken t : added) {
            if (t.normalized() && !normalizer.isIdentity()) {
                // Matched after normalization, so its content is compared in normalized form.
                normalizedMatched.add(new AddedToken(t.id(), normalizer.apply(t.content()), t.special(),
                        t.singleWord(), t.lstrip(), t.rstrip(), true));
            } else {
                rawMatched.add(t);
            }
        }
        return new Tokenizer(file, vocabulary, new AddedTokens(rawMatched),
                normalizer, new AddedTokens(normalizedMatched), preTokenizer, bpe, postProcessor);
    }

    private void checkModel(JsonNode model) {
        if (!model.isObject()) {
            throw fail("no \"model\" object");
        }
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw fail("model type " + type + " is not supported (only byte-level BPE)");
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw fail("BPE byte_fallback is not supported (only byte-level BPE)");
        }
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode() && model.path("dropout").asDouble() > 0) {
            throw fail("BPE dropout is not supported: it makes tokenization random");
        }
        for (String field : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(field).asText("").isEmpty()) {
                throw fail("BPE " + field + " is not supported (only byte-level BPE)");
            }
        }
    }

    private Map<String, Integer> readVocab(JsonNode vocabNode) {
        if (!vocabNode.isObject() || vocabNode.isEmpty()) {
            throw fail("model.vocab is missing or empty");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw fail("model.vocab entry " + e.getKey() + " has id " + e.getValue() + ", not a non-negative int");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    /** Merges are "left right" strings (older files) or [left, right] pairs (newer files); rank = position. */
    private PairRankMap readMerges(JsonNode merges, Map<String, Integer> vocab) {
        if (!merges.isArray()) {
            throw fail("model.merges is missing or not an array");
        }
        PairRankMap map = new PairRankMap(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            JsonNode m = merges.get(rank);
            String left;
            String right;
            if (m.isTextual()) {
                int space = m.asText().indexOf(' ');
                if (space <= 0 || space != m.asText().lastIndexOf(' ')) {
                    throw fail("merge #" + rank + " \"" + m.asText() + "\" is not two tokens separated by one space");
                }
                left = m.asText().substring(0, space);
                right = m.asText().substring(space + 1);
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw fail("merge #" + rank + " " + m + " is neither \"a b\" nor [\"a\", \"b\"]");
            }
            Integer l = vocab.get(left);
            Integer r = vocab.get(right);
            Integer merged = vocab.get(left + right);
            if (l == null || r == null || merged == null) {
                throw fail("merge #" + rank + " (" + left + ", " + right + ") uses a token that is not in model.vocab");
            }
            map.put(l, r, rank, merged);
        }
        return map;
    }

    private List<AddedToken> readAddedTokens(JsonNode node) {
        List<AddedToken> out = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw fail("added_tokens is not an array");
        }
        for (JsonNode t : node) {
            if (!t.path("id").canConvertToInt() || !t.path("content").isTextual()) {
                throw fail("added token " + t + " needs an int id and a string content");
            }
            out.add(new AddedToken(t.path("id").asInt(), t.path("content").asText(), t.path("special").asBoolean(false),
                    t.path("single_word").asBoolean(false), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(!t.path("special").asBoolean(false))));
        }
        return out;
    }

    private List<Normalizer.Form> readNormalizer(JsonNode node, List<Normalizer.Form> out) {
        if (node.isMissingNode() || node.isNull()) {
            return out;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "NFC" -> out.add(Normalizer.Form.NFC);
            case "NFD" -> out.add(Normalizer.Form.NFD);
            case "NFKC" -> out.add(Normalizer.Form.NFKC);
            case "NFKD" -> out.add(Normalizer.Form.NFKD);
            case "Sequence" -> node.path("normalizers").forEach(n -> readNormalizer(n, out));
            default -> throw fail("normalizer type " + type + " is not supported (only NFC/NFD/NFKC/NFKD and Sequence)");
        }
        return out;
    }

    private PreTokenizer readPreTokenizer(JsonNode node) {
        List<PreTokenizer.Stage> stages = new ArrayList<>();
        addStages(node, stages);
        if (!hasByteLevel(node)) {
            throw fail("pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizers are supported");
        }
        return new PreTokenizer(stages);
    }

    private void addStages(JsonNode node, List<PreTokenizer.Stage> stages) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "Sequence" -> node.path("pretokenizers").forEach(n -> addStages(n, stages));
            case "Split" -> stages.add(new PreTokenizer.IsolatingSplit(splitPattern(node)));
            case "ByteLevel" -> {
                if (node.path("add_prefix_space").asBoolean(false)) {
                    stages.add(new PreTokenizer.PrefixSpace());
                }
                if (node.path("use_regex").asBoolean(true)) {
                    stages.add(new PreTokenizer.IsolatingSplit(RustRegex.compileForSplit(PreTokenizer.GPT2_PATTERN)));
                }
            }
            default -> throw fail("pre_tokenizer type " + type + " is not supported (only Sequence, Split, ByteLevel)");
        }
    }

    private SplitPattern splitPattern(JsonNode split) {
        String behavior = split.path("behavior").asText();
        if (!behavior.equals("Isolated") || split.path("invert").asBoolean(false)) {
            throw fail("Split pre-tokenizer with behavior " + behavior + (split.path("invert").asBoolean(false)
                    ? " and invert" : "") + " is not supported (only Isolated, not inverted)");
        }
        JsonNode pattern = split.path("pattern");
        try {
            if (pattern.path("Regex").isTextual()) {
                return RustRegex.compileForSplit(pattern.path("Regex").asText());
            }
            if (pattern.path("String").isTextual()) {
                return SplitPattern.of(Pattern.compile(Pattern.quote(pattern.path("String").asText())));
            }
        } catch (TokenizerException e) {
            throw fail(e.getMessage(), e);
        }
        throw fail("Split pre-tokenizer has no Regex or String pattern: " + pattern);
    }

    private static boolean hasByteLevel(JsonNode node) {
        if ("ByteLevel".equals(node.path("type").asText())) {
            return true;
        }
        for (JsonNode child : node.path("pretokenizers")) {
            if (hasByteLevel(child)) {
                return true;
            }
        }
        return false;
    }

    /**
     * What the post-processor adds to a single sequence: ByteLevel adds nothing (it only trims
     * offsets); TemplateProcessing adds its "single" template's special tokens; Bert and Roberta
     * processing add cls before and sep after; a Sequence applies its steps in order.
     */
    private PostProcessor readPostProcessor(JsonNode node, Vocabulary vocabulary) {
        if (node.isMissingNode() || node.isNull()) {
            return PostProcessor.NONE;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "ByteLevel":
                return PostProcessor.NONE;
            case "Sequence": {
                List<PostProcessor> steps = new ArrayList<>();
                node.path("processors").forEach(p -> steps.add(readPostProcessor(p, vocabulary)));
                return PostProcessor.sequence(steps);
            }
            case "TemplateProcessing":
                return readTemplate(node);
            case "BertProcessing":
            case "RobertaProcessing": {
                int cls = specialPairId(node.path("cls"), type + ".cls", vocabulary);
                int sep = specialPairId(node.path("sep"), type + ".sep", vocabulary);
                return new PostProcessor(new int[] {cls}, new int[] {sep});
            }
            default:
                throw fail("post_processor type " + type + " is not supported (only ByteLevel, TemplateProcessing, "
                        + "BertProcessing, RobertaProcessing and Sequence)");
        }
    }

    private PostProcessor readTemplate(JsonNode node) {
        IntArrayBuilder prefix = new IntArrayBuilder(4);
        IntArrayBuilder suffix = new IntArrayBuilder(4);
        boolean seenSequence = false;
        for (JsonNode piece : node.path("single")) {
            if (piece.has("Sequence")) {
                if (seenSequence) {
                    throw fail("post_processor TemplateProcessing single template names the sequence twice");
                }
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String id = piece.path("SpecialToken").path("id").asText();
                JsonNode ids = node.path("special_tokens").path(id).path("ids");
                if (!ids.isArray() || ids.isEmpty()) {
                    throw fail("post_processor TemplateProcessing uses special token " + id + " but special_tokens gives it no ids");
                }
                for (JsonNode v : ids) {
                    (seenSequence ? suffix : prefix).add(v.asInt());
                }
            } else {
                throw fail("post_processor TemplateProcessing piece " + piece + " is neither Sequence nor SpecialToken");
            }
        }
        if (!seenSequence) {
            throw fail("post_processor TemplateProcessing single template has no Sequence");
        }
        return new PostProcessor(prefix.toArray(), suffix.toArray());
    }

    private int specialPairId(JsonNode pair, String what, Vocabulary vocabulary) {
        if (!pair.isArray() || pair.size() != 2 || !pair.get(1).canConvertToInt()) {
            throw fail("post_processor " + what + " is not a [token, id] pair: " + pair);
        }
        int id = pair.get(1).asInt();
        if (id < 0 || id >= vocabulary.size()) {
            throw fail("post_processor " + what + " id " + id + " is not in the vocabulary");
        }
        return id;
    }

    private void checkDecoder(JsonNode node) {
        if (!node.isMissingNode() && !node.isNull() && !"ByteLevel".equals(node.path("type").asText())) {
            throw fail("decoder type " + node.path("type").asText() + " is not supported (only ByteLevel)");
        }
    }

    private int[] byteIds(Map<String, Integer> vocab) {
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevelAlphabet.charOf((byte) b)));
            ids[b] = id == null ? -1 : id;
        }
        return ids;
    }

    /** Added tokens decode to their content; model tokens to the bytes their byte-level spelling stands for. */
    private Vocabulary buildVocabulary(Map<String, Integer> vocab, List<AddedToken> added) {
        int size = 0;
        for (int id : vocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : added) {
            size = Math.max(size, t.id() + 1);
        }
        byte[][] bytes = new byte[size][];
        boolean[] special = new boolean[size];
        Map<String, Integer> ids = new HashMap<>(vocab);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            byte[] b = ByteLevelAlphabet.decode(e.getKey());
            // Like Hugging Face's ByteLevel decoder: a token outside the alphabet decodes to its own UTF-8.
            bytes[e.getValue()] = b != null ? b : e.getKey().getBytes(StandardCharsets.UTF_8);
        }
        for (AddedToken t : added) {
            bytes[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
            special[t.id()] = t.special();
            ids.put(t.content(), t.id());
        }
        return new Vocabulary(bytes, ids, special);
    }

    private TokenizerException fail(String what) {
        return new TokenizerException(file + ": " + what);
    }

    private TokenizerException fail(String what, Throwable cause) {
        return new TokenizerException(file + ": " + what, cause);
    }
}
