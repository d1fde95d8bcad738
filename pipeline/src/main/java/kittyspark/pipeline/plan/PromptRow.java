package kittyspark.pipeline.plan;

import java.util.List;

import kittyspark.pipeline.PipelineConfig;
import org.apache.spark.sql.Row;

/**
 * The fields of one input row that generation reads, lifted out of the Spark row. Optional
 * columns that are absent, and null values, are both null here (meaning: the job default).
 *
 * @param problem the first value of the row that cannot be used (then that field is null), or null
 */
public record PromptRow(String id, int occurrence, String prompt, List<ChatMessage> messages,
                        Long maxNewTokens, Double temperature, Double topP, Long seed, List<String> stop,
                        Problem problem) {

    /** One chat message; multi-part content arrives here as its text parts joined. */
    public record ChatMessage(String role, String content) {
    }

    /**
     * Why a value of the row cannot be used.
     *
     * @param message     names the field (down to the array index) and what is wrong with it
     * @param valueDigest a digest of the offending value, so a corrected value changes the row's fingerprint
     */
    public record Problem(String message, String valueDigest) {
    }

    public PromptRow(String id, int occurrence, String prompt, List<ChatMessage> messages, Long maxNewTokens,
                     Double temperature, Double topP, Long seed, List<String> stop) {
        this(id, occurrence, prompt, messages, maxNewTokens, temperature, topP, seed, stop, null);
    }

    /** The key a row is known by in the output: duplicate ids are told apart by their occurrence. */
    public String key() {
        return (id == null ? "\u0000null" : id) + "#" + occurrence;
    }

    /** Reads one row. Never throws: a value that cannot be used becomes the row's {@link #problem}. */
    public static PromptRow from(Row row, PipelineConfig.Columns columns, int occurrence) {
        RowValues v = new RowValues(row);
        String id = v.id(columns.id());
        String prompt = v.string(columns.prompt());
        List<ChatMessage> messages = v.messages(columns.messages());
        Long maxNewTokens = v.wholeNumber(InputSchema.MAX_NEW_TOKENS);
        Double temperature = v.number(InputSchema.TEMPERATURE);
        Double topP = v.number(InputSchema.TOP_P);
        Long seed = v.wholeNumber(InputSchema.SEED);
        List<String> stop = v.strings(InputSchema.STOP);
        return new PromptRow(id, occurrence, prompt, messages, maxNewTokens, temperature, topP, seed, stop, v.problem());
    }
}
