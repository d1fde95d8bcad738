package kittyspark.pipeline.plan;

import kittyspark.pipeline.output.ErrorCode;

/**
 * Turns a planned row into prompt tokens: renders chat messages, tokenizes, and enforces the
 * context limit (an error, or a left cut when configured).
 */
public final class PromptEncoder {
    private final PromptTokenizer engine;
    private final ChatTemplate chatTemplate;
    private final boolean truncateLeft;
    private final int maxPromptTokens;

    public PromptEncoder(PromptTokenizer engine, ChatTemplate chatTemplate, boolean truncateLeft, int maxPromptTokens) {
        this.engine = engine;
        this.chatTemplate = chatTemplate;
        this.truncateLeft = truncateLeft;
        this.maxPromptTokens = maxPromptTokens;
    }

    /** Tokens, or the row's error and its {@link ErrorCode}. */
    public record Encoded(int[] tokens, String code, String error) {
        Encoded(int[] tokens) {
            this(tokens, null, null);
        }
    }

    public Encoded encode(RowPlan plan) {
        String text;
        boolean chat = plan.row().messages() != null;
        if (chat) {
            if (chatTemplate == null) {
                return new Encoded(null, ErrorCode.CHAT_TEMPLATE,
                        "the row has messages but the model has no chat_template in tokenizer_config.json");
            }
            try {
                text = chatTemplate.render(plan.row().messages());
            } catch (RuntimeException e) {
                return new Encoded(null, ErrorCode.CHAT_TEMPLATE, "messages: " + e.getMessage());
            }
        } else {
            text = plan.row().prompt();
        }
        int[] tokens = engine.promptIds(text, chat);
        if (tokens.length == 0) {
            return new Encoded(null, ErrorCode.EMPTY_PROMPT, "prompt is empty: it has no tokens");
        }
        int context = engine.contextLimit();
        // The prompt must leave room in the context for at least one generated token.
        int limit = maxPromptTokens > 0 ? Math.min(maxPromptTokens, context - 1) : context - 1;
        if (tokens.length > limit) {
            if (!truncateLeft) {
                return new Encoded(tokens, ErrorCode.PROMPT_TOO_LONG, "prompt has " + tokens.length + " tokens, more than the " + limit
                        + " allowed (the model's context is " + context + " for prompt and completion together"
                        + (maxPromptTokens > 0 ? ", kitty.prompt.max-tokens is " + maxPromptTokens : "")
                        + "); shorten it or set kitty.prompt.truncate = left");
            }
            // Keep the end of the prompt (closest to what is generated), leaving room to generate.
            int room = Math.min(plan.params().maxNewTokens(), context / 2);
            int keep = Math.max(1, Math.min(limit, context - Math.max(1, room)));
            int[] cut = new int[keep];
            System.arraycopy(tokens, tokens.length - keep, cut, 0, keep);
            return new Encoded(cut);
        }
        return new Encoded(tokens);
    }
}
