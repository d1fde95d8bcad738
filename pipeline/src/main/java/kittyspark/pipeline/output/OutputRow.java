package kittyspark.pipeline.output;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * One output row, filled by column name: the input row's own columns first, then whatever
 * generation sets. A column that is never set stays null, so adding a column to
 * {@link OutputSchema} cannot shift the others.
 */
public final class OutputRow {
    private final StructType schema;
    private final Object[] values;

    private OutputRow(StructType schema) {
        this.schema = schema;
        this.values = new Object[schema.size()];
    }

    /** An empty row of {@code schema}. */
    public static OutputRow of(StructType schema) {
        return new OutputRow(schema);
    }

    /**
     * A row of {@code schema} holding {@code input}'s values of the columns of {@code inputSchema}
     * (the input's own columns; planning columns the row also carries are left out).
     */
    public static OutputRow copying(StructType schema, StructType inputSchema, Row input) {
        OutputRow r = new OutputRow(schema);
        for (StructField f : inputSchema.fields()) {
            r.set(f.name(), input.get(input.fieldIndex(f.name())));
        }
        return r;
    }

    /** Sets one column; a name the schema does not have fails at once. */
    public OutputRow set(String column, Object value) {
        values[schema.fieldIndex(column)] = value;
        return this;
    }

    public Row toRow() {
        return new GenericRowWithSchema(values.clone(), schema);
    }
}
