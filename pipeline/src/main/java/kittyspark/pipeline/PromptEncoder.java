package kittyspark.pipeline;

/**
 * Turns a planned row into prompt tokens: renders chat messages, tokenizes, and enforces the
 * context limit (an error, or a left cut when configured).
 */
final class PromptEncoder {
    private final GenerationService engine;
    private final ChatTemplate chatTemplate;
    private final boolean truncateLeft;

    PromptEncoder(GenerationService engine, ChatTemplate chatTemplate, boolean truncateLeft) {
        this.engine = engine;
        this.chatTemplate = chatTemplate;
        this.truncateLeft = truncateLeft;
    }

    /** Tokens, or the row's error. */
    record Encoded(int[] tokens, String error) {
    }

    Encoded encode(RowPlan plan) {
        String text;
        if (plan.row().messages() != null) {
            if (chatTemplate == null) {
                return new Encoded(null, "the row has messages but the model has no chat_template in tokenizer_config.json");
            }
            try {
                text = chatTemplate.render(plan.row().messages());
            } catch (RuntimeException e) {
                return new Encoded(null, "messages: " + e.getMessage());
            }
        } else {
            text = plan.row().prompt();
        }
        int[] tokens = engine.encode(text);
        if (tokens.length == 0) {
            return new Encoded(null, "prompt is empty: it has no tokens");
        }
        int context = engine.contextLimit();
        if (tokens.length >= context) {
            if (!truncateLeft) {
                return new Encoded(tokens, "prompt has " + tokens.length + " tokens but the model's context is "
                        + context + " (prompt and completion together); shorten it or set kitty.prompt.truncate = left");
            }
            // Keep the end of the prompt (closest to what is generated) and leave room to generate.
            int room = Math.max(1, Math.min(plan.params().maxNewTokens(), context / 2));
            int keep = context - room;
            int[] cut = new int[keep];
            System.arraycopy(tokens, tokens.length - keep, cut, 0, keep);
            return new Encoded(cut, null);
        }
        return new Encoded(tokens, null);
    }
}
