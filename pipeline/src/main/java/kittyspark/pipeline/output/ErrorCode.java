package kittyspark.pipeline.output;

import java.util.List;

/**
 * The output's {@code error_code}: what kind of problem made a row an error row, stable across
 * versions so that scheduled jobs and dashboards can count and route them. The {@code error}
 * column says the particulars. docs/output.md lists every code.
 */
public final class ErrorCode {
    /** A value of the row cannot be used: null or empty id, null prompt, malformed messages. Fix the input. */
    public static final String INVALID_INPUT = "invalid_input";
    /** A per-row sampling parameter is out of range (max_new_tokens, temperature, top_p). */
    public static final String INVALID_PARAMETERS = "invalid_parameters";
    /** A later row with an id seen before; only the first row with an id is generated. */
    public static final String DUPLICATE_ID = "duplicate_id";
    /** The prompt has more tokens than allowed; shorten it or set kitty.prompt.truncate = left. */
    public static final String PROMPT_TOO_LONG = "prompt_too_long";
    /** The prompt tokenizes to nothing. */
    public static final String EMPTY_PROMPT = "empty_prompt";
    /** The row has messages but the model has no chat template, or the template refused them. */
    public static final String CHAT_TEMPLATE = "chat_template";
    /** The tokenizer failed on the prompt. */
    public static final String TOKENIZATION_FAILED = "tokenization_failed";
    /** The engine refused the request (it does not fit the KV pool, the KV mode is unsupported there). */
    public static final String ENGINE_REJECTED = "engine_rejected";
    /** Generation started and failed (an engine step failed, the engine closed); a rerun with --retry-errors may succeed. */
    public static final String GENERATION_FAILED = "generation_failed";

    /** Something unexpected went wrong with the row (a bug); the row is kept as an error instead of failing the task. */
    public static final String INTERNAL_ERROR = "internal_error";

    public static final List<String> ALL = List.of(INVALID_INPUT, INVALID_PARAMETERS, DUPLICATE_ID, PROMPT_TOO_LONG,
            EMPTY_PROMPT, CHAT_TEMPLATE, TOKENIZATION_FAILED, ENGINE_REJECTED, GENERATION_FAILED, INTERNAL_ERROR);

    private ErrorCode() {
    }
}
