package kittyspark.pipeline.output;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** docs/output.md is the output contract: the schema the job writes is the one that page describes. */
class OutputContractTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_0-9]+)` \\| `([^`]+)` \\| ([^|]+) \\|");

    /** The rows of the markdown table that follows {@code heading}: column name, type, null rule. */
    private static List<String[]> table(String heading) throws Exception {
        List<String> lines = Files.readAllLines(REPO.resolve("docs/output.md"));
        List<String[]> rows = new ArrayList<>();
        boolean in = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                in = line.equals(heading);
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (in && m.find()) {
                rows.add(new String[] {m.group(1), m.group(2), m.group(3).trim()});
            }
        }
        return rows;
    }

    @Test
    void everyGeneratedColumnIsDocumentedInOrderWithItsTypeAndWhetherItCanBeNull() throws Exception {
        List<String[]> doc = table("## Columns");
        StructField[] fields = OutputSchema.ADDED.fields();
        List<String> documented = doc.stream().map(r -> r[0]).toList();
        assertEquals(List.of(OutputSchema.ADDED.fieldNames()), documented, "docs/output.md lists the columns in schema order");
        for (int i = 0; i < fields.length; i++) {
            String[] row = doc.get(i);
            assertEquals(fields[i].dataType().simpleString(), row[1].replace(" ", ""), "type of " + row[0]);
            assertEquals(!fields[i].nullable(), row[2].startsWith("never"), "null rule of " + row[0] + ": " + row[2]);
        }
    }

    @Test
    void everyErrorCodeIsDocumented() throws Exception {
        List<String> lines = Files.readAllLines(REPO.resolve("docs/output.md"));
        List<String> codes = new ArrayList<>();
        boolean in = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                in = line.equals("## Error codes");
            } else if (in && line.startsWith("| `")) {
                codes.add(line.substring(3, line.indexOf('`', 3)));
            }
        }
        assertEquals(ErrorCode.ALL, codes);
    }
}
