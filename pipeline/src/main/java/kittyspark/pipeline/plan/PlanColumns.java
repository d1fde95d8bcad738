package kittyspark.pipeline.plan;

import java.io.Serializable;

import kittyspark.pipeline.ColumnNames;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The names of one run's planning columns, appended after the input's own columns and dropped
 * from the output. Chosen per input so that none equals an input column, whatever it is called.
 *
 * @param occurrence  1 for the first row with an id, counting up for duplicates
 * @param fingerprint the row's {@link RowPlan#fingerprint()}
 * @param length      a prompt length estimate, for balancing partitions
 */
public record PlanColumns(String occurrence, String fingerprint, String length) implements Serializable {

    public static PlanColumns freshFor(StructType input) {
        String occurrence = ColumnNames.fresh(input, "_kitty_occurrence");
        StructType s = input.add(occurrence, DataTypes.IntegerType);
        String fingerprint = ColumnNames.fresh(s, "_kitty_fingerprint");
        s = s.add(fingerprint, DataTypes.StringType);
        return new PlanColumns(occurrence, fingerprint, ColumnNames.fresh(s, "_kitty_length"));
    }
}
