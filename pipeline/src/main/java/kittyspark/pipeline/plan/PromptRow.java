package kittyspark.pipeline.plan;

import java.util.ArrayList;
import java.util.List;

import kittyspark.pipeline.PipelineConfig;
import org.apache.spark.sql.Row;

/**
 * The fields of one input row that generation reads, lifted out of the Spark row. Optional
 * columns that are absent, and null values, are both null here (meaning: the job default).
 */
public record PromptRow(String id, int occurrence, String prompt, List<ChatMessage> messages,
                        Long maxNewTokens, Double temperature, Double topP, Long seed, List<String> stop) {

    public record ChatMessage(String role, String content) {
    }

    /** The key a row is known by in the output: duplicate ids are told apart by their occurrence. */
    public String key() {
        return (id == null ? "\u0000null" : id) + "#" + occurrence;
    }

    public static PromptRow from(Row row, PipelineConfig.Columns columns, int occurrence) {
        return new PromptRow(
                idOrNull(row, columns.id()),
                occurrence,
                stringOrNull(row, columns.prompt()),
                messages(row, columns.messages()),
                number(row, InputSchema.MAX_NEW_TOKENS) == null ? null : number(row, InputSchema.MAX_NEW_TOKENS).longValue(),
                number(row, InputSchema.TEMPERATURE) == null ? null : number(row, InputSchema.TEMPERATURE).doubleValue(),
                number(row, InputSchema.TOP_P) == null ? null : number(row, InputSchema.TOP_P).doubleValue(),
                number(row, InputSchema.SEED) == null ? null : number(row, InputSchema.SEED).longValue(),
                strings(row, InputSchema.STOP));
    }

    private static int index(Row row, String column) {
        try {
            return row.fieldIndex(column);
        } catch (IllegalArgumentException absent) {
            return -1;
        }
    }

    /** A string id, or an integer id as its decimal text. */
    private static String idOrNull(Row row, String column) {
        int i = index(row, column);
        if (i < 0 || row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        return v instanceof Number n ? String.valueOf(n.longValue()) : (String) v;
    }

    private static String stringOrNull(Row row, String column) {
        int i = index(row, column);
        return i < 0 || row.isNullAt(i) ? null : row.getString(i);
    }

    private static Number number(Row row, String column) {
        int i = index(row, column);
        if (i < 0 || row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        return v instanceof Number n ? n : null;
    }

    private static List<String> strings(Row row, String column) {
        int i = index(row, column);
        if (i < 0 || row.isNullAt(i)) {
            return null;
        }
        return new ArrayList<>(row.<String>getList(i));
    }

    private static List<ChatMessage> messages(Row row, String column) {
        int i = index(row, column);
        if (i < 0 || row.isNullAt(i)) {
            return null;
        }
        List<ChatMessage> out = new ArrayList<>();
        for (Row m : row.<Row>getList(i)) {
            String role = m.isNullAt(m.fieldIndex("role")) ? null : m.getString(m.fieldIndex("role"));
            String content = m.isNullAt(m.fieldIndex("content")) ? null : m.getString(m.fieldIndex("content"));
            out.add(new ChatMessage(role, content));
        }
        return out;
    }
}
