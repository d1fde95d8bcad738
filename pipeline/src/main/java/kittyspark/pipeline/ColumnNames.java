package kittyspark.pipeline;

import java.util.Locale;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Column names the job makes up (planning and bookkeeping columns) and column references that
 * survive any name. Spark matches names case-insensitively by default, so a made-up name must
 * differ from every input column in more than case; and a name with a dot or a backtick must be
 * quoted or Spark reads it as a path into a struct.
 */
public final class ColumnNames {
    private ColumnNames() {
    }

    /** {@code base}, or {@code base_1}, {@code base_2}... : the first that no column of {@code schema} has. */
    public static String fresh(StructType schema, String base) {
        String name = base;
        for (int n = 1; taken(schema, name); n++) {
            name = base + "_" + n;
        }
        return name;
    }

    /** Whether {@code schema} has a column named {@code name}, ignoring case as Spark does. */
    public static boolean taken(StructType schema, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (StructField f : schema.fields()) {
            if (f.name().toLowerCase(Locale.ROOT).equals(lower)) {
                return true;
            }
        }
        return false;
    }

    /** A reference to the top-level column {@code name}, whatever characters it holds. */
    public static Column col(String name) {
        return functions.col(quoted(name));
    }

    public static String quoted(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
