package kittyspark.pipeline.plan;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

import kittyspark.pipeline.InputException;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.output.OutputSchema;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the job accepts as input, checked once on the driver so that a wrong column type
 * fails the job at once with a message that names the column, instead of failing rows.
 */
public final class InputSchema implements Serializable {
    public static final String MAX_NEW_TOKENS = "max_new_tokens";
    public static final String TEMPERATURE = "temperature";
    public static final String TOP_P = "top_p";
    public static final String SEED = "seed";
    public static final String STOP = "stop";

    /** Integer ids are read as their decimal text; the output keeps the column as it was. */
    static final Set<DataType> INTEGRAL_IDS = Set.of(DataTypes.ByteType, DataTypes.ShortType, DataTypes.IntegerType,
            DataTypes.LongType);

    private final StructType schema;
    private final PipelineConfig.Columns columns;

    private InputSchema(StructType schema, PipelineConfig.Columns columns) {
        this.schema = schema;
        this.columns = columns;
    }

    public static InputSchema check(StructType schema, PipelineConfig.Columns columns) {
        Set<String> names = Set.of(schema.fieldNames());
        if (!names.contains(columns.id())) {
            throw new InputException("the input has no id column '" + columns.id() + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + "); set kitty.input.id-column");
        }
        DataType idType = schema.apply(columns.id()).dataType();
        if (!idType.equals(DataTypes.StringType) && !INTEGRAL_IDS.contains(idType)) {
            throw new InputException("input column '" + columns.id() + "' must be a string or an integer type, found "
                    + idType.simpleString() + "; cast it first, e.g. df.withColumn(\"" + columns.id() + "\", col(\""
                    + columns.id() + "\").cast(\"string\"))");
        }
        boolean hasPrompt = names.contains(columns.prompt());
        boolean hasMessages = names.contains(columns.messages());
        if (!hasPrompt && !hasMessages) {
            throw new InputException("the input has neither a prompt column '" + columns.prompt()
                    + "' nor a messages column '" + columns.messages() + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + "); set kitty.input.prompt-column");
        }
        if (hasPrompt) {
            requireType(schema, columns.prompt(), DataTypes.StringType, "a string");
        }
        if (hasMessages) {
            checkMessages(columns.messages(), schema.apply(columns.messages()).dataType());
        }
        for (String numeric : List.of(MAX_NEW_TOKENS, TEMPERATURE, TOP_P, SEED)) {
            if (names.contains(numeric) && !(schema.apply(numeric).dataType() instanceof NumericType)) {
                throw new InputException("input column '" + numeric + "' must be numeric, found "
                        + schema.apply(numeric).dataType().simpleString());
            }
        }
        if (names.contains(STOP)) {
            requireType(schema, STOP, DataTypes.createArrayType(DataTypes.StringType), "an array of strings");
        }
        for (String reserved : OutputSchema.ADDED_COLUMNS) {
            for (String name : schema.fieldNames()) {
                // Spark matches names ignoring case, so "Error" would clash with "error" too.
                if (name.equalsIgnoreCase(reserved)) {
                    throw new InputException("input column '" + name + "' has the name of the output column '" + reserved
                            + "' (names are compared ignoring case); rename or drop it before generating");
                }
            }
        }
        return new InputSchema(schema, columns);
    }

    /**
     * {@code array<struct<role: string, content: ...>>} where content is a string, or OpenAI-style
     * parts {@code array<struct<type: string, text: string, ...>>} (text parts are joined; any other
     * part type is an error row). Other fields of the structs are ignored.
     */
    private static void checkMessages(String column, DataType t) {
        String expected = "input column '" + column + "' must be an array of struct<role: string, content: string> "
                + "(or content as an array of struct<type: string, text: string> parts)";
        if (!(t instanceof ArrayType a && a.elementType() instanceof StructType s)) {
            throw new InputException(expected + ", found " + t.simpleString());
        }
        if (!List.of(s.fieldNames()).containsAll(List.of("role", "content"))) {
            throw new InputException(expected + ", found " + t.simpleString() + " (role or content is missing)");
        }
        DataType role = s.apply("role").dataType();
        if (!role.equals(DataTypes.StringType)) {
            throw new InputException(expected + ", found " + column + "[].role of type " + role.simpleString());
        }
        DataType content = s.apply("content").dataType();
        boolean parts = content instanceof ArrayType pa && pa.elementType() instanceof StructType ps
                && List.of(ps.fieldNames()).contains("text") && ps.apply("text").dataType().equals(DataTypes.StringType)
                && (!List.of(ps.fieldNames()).contains("type") || ps.apply("type").dataType().equals(DataTypes.StringType));
        if (!content.equals(DataTypes.StringType) && !parts) {
            throw new InputException(expected + ", found " + column + "[].content of type " + content.simpleString());
        }
    }

    private static void requireType(StructType schema, String column, DataType expected, String what) {
        DataType t = schema.apply(column).dataType();
        boolean ok = expected instanceof ArrayType e && t instanceof ArrayType a
                ? a.elementType().equals(e.elementType()) : t.equals(expected);
        if (!ok) {
            throw new InputException("input column '" + column + "' must be " + what + ", found " + t.simpleString());
        }
    }

    public StructType schema() {
        return schema;
    }

    public PipelineConfig.Columns columns() {
        return columns;
    }

    public boolean has(String column) {
        for (StructField f : schema.fields()) {
            if (f.name().equals(column)) {
                return true;
            }
        }
        return false;
    }
}
