package kittyspark.runtime.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The added tokens of one kind (matched on raw text, or on normalized text) and the splitting of
 * text around them. Like Hugging Face, they are found before any pre-tokenization, leftmost
 * first and longest at a position; {@code lstrip}/{@code rstrip} swallow whitespace beside a
 * match and {@code single_word} only accepts a match that is not inside a word.
 */
final class AddedTokens {
    /** One entry of tokenizer.json's added_tokens. */
    record AddedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip,
                      boolean rstrip, boolean normalized) {
    }

    /** A piece of text: either an added token ({@code tokenId >= 0}) or ordinary text to tokenize. */
    record Segment(String text, int tokenId) {
        boolean isToken() {
            return tokenId >= 0;
        }
    }

    private static final class TrieNode {
        final Map<Character, TrieNode> children = new HashMap<>();
        AddedToken token;
    }

    private final TrieNode root = new TrieNode();
    private final BitSet firstChars = new BitSet(); // fast rejection: most positions start no token
    private final boolean empty;

    AddedTokens(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            if (t.content().isEmpty()) {
                continue;
            }
            TrieNode node = root;
            for (int i = 0; i < t.content().length(); i++) {
                node = node.children.computeIfAbsent(t.content().charAt(i), c -> new TrieNode());
            }
            if (node.token == null) {
                node.token = t;
            }
            firstChars.set(t.content().charAt(0));
        }
        empty = firstChars.isEmpty();
    }

    /** Splits {@code text} into added tokens and the text between them, in order; never empty texts. */
    List<Segment> split(String text) {
        if (empty) {
            return List.of(new Segment(text, -1));
        }
        List<Segment> out = new ArrayList<>();
        int textStart = 0; // start of the ordinary text not yet emitted
        int i = 0;
        while (i < text.length()) {
            AddedToken t = firstChars.get(text.charAt(i)) ? longestAt(text, i) : null;
            if (t == null || (t.singleWord() && !isWholeWord(text, i, i + t.content().length()))) {
                i++;
                continue;
            }
            int start = i;
            int end = i + t.content().length();
            if (t.lstrip()) {
                while (start > textStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (t.rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > textStart) {
                out.add(new Segment(text.substring(textStart, start), -1));
            }
            out.add(new Segment(t.content(), t.id()));
            textStart = end;
            i = end;
        }
        if (textStart < text.length()) {
            out.add(new Segment(textStart == 0 ? text : text.substring(textStart), -1));
        }
        return out;
    }

    private AddedToken longestAt(String text, int pos) {
        TrieNode node = root;
        AddedToken best = null;
        for (int j = pos; j < text.length(); j++) {
            node = node.children.get(text.charAt(j));
            if (node == null) {
                break;
            }
            if (node.token != null) {
                best = node.token;
            }
        }
        return best;
    }

    private static boolean isWholeWord(String text, int start, int end) {
        boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean after = end == text.length() || !isWordChar(text.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
