package kittyspark.runtime.tokenizer;

import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The byte-level BPE tokenizer of a Hugging Face {@code tokenizer.json} (Qwen3, Llama 3, the demo
 * model), giving the same ids as Hugging Face {@code tokenizers} with no special tokens added.
 *
 * <p>Encoding runs the same steps in the same order: split out added tokens found in the raw
 * text, normalize the rest, split out added tokens that match normalized text, pre-tokenize
 * (regex splits), then BPE-merge each pre-token's bytes. Decoding concatenates each id's bytes
 * and reads them as UTF-8, so {@code decode(encode(s))} is {@code s} for any valid string whose
 * normalization leaves it unchanged (always, for tokenizers without a normalizer).
 *
 * <p>Immutable after {@link #load}, apart from an internal bounded concurrent cache, so one
 * instance can be shared by all threads of an executor.
 */
public final class Tokenizer {
    private final Path source;
    private final Vocabulary vocabulary;
    private final AddedTokens rawAddedTokens;
    private final TextNormalizer normalizer;
    private final AddedTokens normalizedAddedTokens;
    private final PreTokenizer preTokenizer;
    private final BpeMerger bpe;
    private final PostProcessor postProcessor;

    Tokenizer(Path source, Vocabulary vocabulary, AddedTokens rawAddedTokens, TextNormalizer normalizer,
              AddedTokens normalizedAddedTokens, PreTokenizer preTokenizer, BpeMerger bpe, PostProcessor postProcessor) {
        this.source = source;
        this.vocabulary = vocabulary;
        this.rawAddedTokens = rawAddedTokens;
        this.normalizer = normalizer;
        this.normalizedAddedTokens = normalizedAddedTokens;
        this.preTokenizer = preTokenizer;
        this.bpe = bpe;
        this.postProcessor = postProcessor;
    }

    /**
     * Loads a {@code tokenizer.json} (or a {@code tokenizer.json.xz}).
     *
     * @throws TokenizerException naming the file, if it is missing, not JSON, or uses a feature this
     *     tokenizer does not implement exactly
     */
    public static Tokenizer load(Path tokenizerJson) {
        return TokenizerJsonLoader.load(tokenizerJson);
    }

    /**
     * The ids of {@code text}, as Hugging Face's {@code encode(text, add_special_tokens=False)}: no
     * BOS/EOS is added; added and special tokens written in the text become their ids.
     *
     * @throws TokenizerException if the text holds a lone surrogate (it is not Unicode text and has no UTF-8)
     */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * The ids of {@code text}; with {@code addSpecialTokens}, also the special tokens tokenizer.json's
     * post-processor adds to a single sequence (Llama 3's {@code <|begin_of_text|>}), as Hugging
     * Face's {@code encode(text)} and a plain-text generation request give them.
     *
     * @throws TokenizerException if the text holds a lone surrogate (it is not Unicode text and has no UTF-8)
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        rejectLoneSurrogates(text);
        IntArrayBuilder out = new IntArrayBuilder(text.length() / 3 + 8);
        for (AddedTokens.Segment raw : rawAddedTokens.split(text)) {
            if (raw.isToken()) {
                out.add(raw.tokenId());
                continue;
            }
            for (AddedTokens.Segment seg : normalizedAddedTokens.split(normalizer.apply(raw.text()))) {
                if (seg.isToken()) {
                    out.add(seg.tokenId());
                } else {
                    preTokenizer.forEachPiece(seg.text(), piece -> bpe.encode(piece, out));
                }
            }
        }
        return addSpecialTokens ? postProcessor.apply(out.toArray()) : out.toArray();
    }

    /**
     * The ids a generation request gets for {@code text}: plain text with the post-processor's
     * specials (as transformers' and vLLM's {@code encode(prompt)}), a rendered chat with none
     * added (its template already wrote them, as {@code apply_chat_template(tokenize=True)} does).
     */
    public int[] promptIds(String text, boolean renderedChat) {
        return promptIds(encode(text), renderedChat);
    }

    /** {@link #promptIds(String, boolean)} from the text's {@link #encode(String) ids}, when those are at hand. */
    public int[] promptIds(int[] ids, boolean renderedChat) {
        return renderedChat ? ids : postProcessor.apply(ids);
    }

    /** Whether {@code encode(text, true)} adds ids to {@code encode(text)} (it does for Llama 3, not for Qwen3). */
    public boolean addsSpecialTokens() {
        return !postProcessor.addsNothing();
    }

    private static void rejectLoneSurrogates(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new TokenizerException(String.format("text has a lone surrogate U+%04X at char %d: it is not valid "
                        + "Unicode and has no UTF-8 form (fix the text's encoding upstream)", (int) c, i));
            }
        }
    }

    /** The text of {@code ids}; special tokens are written out (e.g. {@code <|endoftext|>}), not skipped. */
    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    /**
     * The text of {@code ids[from..to)}. A range that cuts a multi-byte character in two decodes
     * the broken ends as U+FFFD, one per maximal ill-formed subpart, as Hugging Face does.
     *
     * @throws TokenizerException if an id is not in the vocabulary
     */
    public String decode(int[] ids, int from, int to) {
        Objects.checkFromToIndex(from, to, ids.length);
        int length = 0;
        for (int i = from; i < to; i++) {
            length += vocabulary.bytesOf(ids[i]).length;
        }
        byte[] utf8 = new byte[length];
        int pos = 0;
        for (int i = from; i < to; i++) {
            byte[] b = vocabulary.bytesOf(ids[i]);
            System.arraycopy(b, 0, utf8, pos, b.length);
            pos += b.length;
        }
        return Utf8Lossy.decode(utf8, utf8.length);
    }

    /** One more than the largest id of the vocabulary or the added tokens. */
    public int vocabSize() {
        return vocabulary.size();
    }

    /** The id of an added token by its content (e.g. {@code "<|endoftext|>"}) or of a model token by its byte-level spelling. */
    public OptionalInt tokenId(String token) {
        return vocabulary.idOf(token);
    }

    /** Whether {@code id} is an added token marked special (BOS, EOS, PAD, chat markers). */
    public boolean isSpecial(int id) {
        return vocabulary.isSpecial(id);
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", " + vocabSize() + " ids]";
    }
}
