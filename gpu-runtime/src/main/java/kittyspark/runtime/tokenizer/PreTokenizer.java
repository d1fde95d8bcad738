package kittyspark.runtime.tokenizer;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cuts text into pre-tokens, the units BPE works on, as a chain of stages. tokenizer.json's
 * {@code Split} (behavior Isolated) and {@code ByteLevel} (optional prefix space, optional GPT-2
 * regex) both become stages here; the byte mapping itself happens in the BPE merger.
 */
final class PreTokenizer {
    /** The regex ByteLevel applies when {@code use_regex} is true (GPT-2's). */
    static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** One step of the chain: turns one piece into zero or more pieces. */
    interface Stage {
        void apply(String piece, Consumer<String> next);
    }

    /**
     * Split with behavior Isolated: every match is a piece and so is every stretch between
     * matches, so no text is lost.
     */
    record IsolatingSplit(SplitPattern pattern) implements Stage {
        IsolatingSplit(Pattern pattern) {
            this(SplitPattern.of(pattern));
        }

        @Override
        public void apply(String piece, Consumer<String> next) {
            Matcher m = pattern.matcher(piece);
            int last = 0;
            while (m.find()) {
                if (m.start() == m.end()) {
                    continue; // an empty match splits nothing
                }
                if (m.start() > last) {
                    next.accept(piece.substring(last, m.start()));
                }
                next.accept(piece.substring(m.start(), m.end()));
                last = m.end();
            }
            if (last < piece.length()) {
                next.accept(last == 0 ? piece : piece.substring(last));
            }
        }
    }

    /** ByteLevel's add_prefix_space: a piece that does not start with a space gets one. */
    record PrefixSpace() implements Stage {
        @Override
        public void apply(String piece, Consumer<String> next) {
            next.accept(piece.startsWith(" ") ? piece : " " + piece);
        }
    }

    private final List<Stage> stages;

    PreTokenizer(List<Stage> stages) {
        this.stages = List.copyOf(stages);
    }

    /** Calls {@code sink} with each non-empty pre-token of {@code text}, in order. */
    void forEachPiece(String text, Consumer<String> sink) {
        if (!text.isEmpty()) {
            run(0, text, sink);
        }
    }

    private void run(int stage, String piece, Consumer<String> sink) {
        if (stage == stages.size()) {
            sink.accept(piece);
        } else {
            stages.get(stage).apply(piece, p -> run(stage + 1, p, sink));
        }
    }
}
