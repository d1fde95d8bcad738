package kittyspark.pipeline.plan;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.TestSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reading a row never throws, whatever its values hold at any depth: each random row carries at
 * most one unusable value per column at a known place, and the row's problem must name the first
 * such place in reading order (id, prompt, messages, max_new_tokens, temperature, top_p, seed,
 * stop); a row without one must read back exactly what it holds.
 */
class RowReadingFuzzTest {
    static final PipelineConfig CFG = TestSpark.config();
    static final StructType ROW = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
            .add("messages", DataTypes.StringType).add("max_new_tokens", DataTypes.StringType)
            .add("temperature", DataTypes.StringType).add("top_p", DataTypes.StringType)
            .add("seed", DataTypes.StringType).add("stop", DataTypes.StringType);
    static final StructType MESSAGE = new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType);
    static final StructType PART = new StructType().add("type", DataTypes.StringType).add("text", DataTypes.StringType);
    static final long SEED = 20240917L;

    /** A generated value, the place of its unusable part (null if usable), and what a good value reads as. */
    record Gen(Object value, String badAt, Object expected) {
        static Gen ok(Object value, Object expected) {
            return new Gen(value, null, expected);
        }

        static Gen bad(Object value, String at) {
            return new Gen(value, at, null);
        }
    }

    @Test
    void everyRandomRowReadsWithoutThrowingAndNamesItsFirstUnusableValue() {
        Random rnd = new Random(SEED);
        int withProblem = 0;
        for (int i = 0; i < 4000; i++) {
            Gen[] cols = {id(rnd), text(rnd, "prompt"), messages(rnd), whole(rnd, "max_new_tokens"),
                    number(rnd, "temperature"), number(rnd, "top_p"), whole(rnd, "seed"), stop(rnd)};
            Object[] values = new Object[cols.length];
            String firstBad = null;
            for (int c = 0; c < cols.length; c++) {
                values[c] = cols[c].value();
                if (firstBad == null) {
                    firstBad = cols[c].badAt();
                }
            }
            Row row = new GenericRowWithSchema(values, ROW);
            String where = "row " + i + " (seed " + SEED + "): " + row;

            PromptRow p = PromptRow.from(row, CFG.columns(), 1);
            RowPlan plan = RowPlan.of(p, CFG, "m");
            assertNotNull(plan.fingerprint(), where);
            if (firstBad == null) {
                assertNull(p.problem(), where);
                assertEquals(cols[0].expected(), p.id(), where);
                assertEquals(cols[1].expected(), p.prompt(), where);
                assertEquals(cols[2].expected(), p.messages(), where);
                assertEquals(cols[3].expected(), p.maxNewTokens(), where);
                assertEquals(cols[4].expected(), p.temperature(), where);
                assertEquals(cols[5].expected(), p.topP(), where);
                assertEquals(cols[6].expected(), p.seed(), where);
                assertEquals(cols[7].expected(), p.stop(), where);
            } else {
                withProblem++;
                assertNotNull(p.problem(), where);
                String m = p.problem().message();
                assertTrue(m.startsWith(firstBad + " ") || m.startsWith(firstBad + ":"), where + " -> " + m);
                assertNotNull(plan.error(), where);
            }
        }
        assertTrue(withProblem > 800 && withProblem < 3800, "both kinds are exercised: " + withProblem);
    }

    @Test
    void aCorrectedValueChangesTheFingerprintOfAnErrorRow() {
        Row nullStop = new GenericRowWithSchema(new Object[]{"a", "x", null, null, null, null, null, seq("\n", null)}, ROW);
        Row otherNull = new GenericRowWithSchema(new Object[]{"a", "x", null, null, null, null, null, seq("\t", null)}, ROW);
        Row fixed = new GenericRowWithSchema(new Object[]{"a", "x", null, null, null, null, null, seq("\n")}, ROW);
        String f1 = RowPlan.of(PromptRow.from(nullStop, CFG.columns(), 1), CFG, "m").fingerprint();
        String f2 = RowPlan.of(PromptRow.from(otherNull, CFG.columns(), 1), CFG, "m").fingerprint();
        String f3 = RowPlan.of(PromptRow.from(fixed, CFG.columns(), 1), CFG, "m").fingerprint();
        assertTrue(!f1.equals(f2) && !f1.equals(f3) && !f2.equals(f3), f1 + " " + f2 + " " + f3);
    }

    // ---- generators: each returns a value that is usable (with what it reads as) or not (with where)

    /** Ids: text, or an integer taken as its decimal text; any other type is unusable. */
    static Gen id(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> Gen.ok(null, null);
            case 1 -> {
                int v = r.nextInt();
                yield Gen.ok(v, String.valueOf(v));
            }
            case 2 -> Gen.bad(r.nextDouble(), "id");
            default -> {
                String s = randomString(r);
                yield Gen.ok(s, s);
            }
        };
    }

    static Gen text(Random r, String col) {
        return switch (r.nextInt(10)) {
            case 0 -> Gen.ok(null, null);
            case 1 -> Gen.bad(r.nextInt(), col);
            default -> {
                String s = randomString(r);
                yield Gen.ok(s, s);
            }
        };
    }

    static Gen whole(Random r, String col) {
        return switch (r.nextInt(16)) {
            case 0, 1 -> Gen.ok(null, null);
            case 2 -> {
                int v = r.nextInt();
                yield Gen.ok(v, (long) v);
            }
            case 3 -> {
                long v = r.nextLong();
                yield Gen.ok(v, v);
            }
            case 4 -> {
                short v = (short) r.nextInt(100);
                yield Gen.ok(v, (long) v);
            }
            case 5 -> {
                double d = r.nextInt(1000);
                yield Gen.ok(d, (long) d);
            }
            case 6 -> {
                long l = r.nextLong();
                yield Gen.ok(new BigDecimal(l), l);
            }
            case 7 -> Gen.ok(new BigDecimal("12.000"), 12L);
            case 8 -> Gen.bad(Double.NaN, col);
            case 9 -> Gen.bad(1.5, col);
            case 10 -> Gen.bad(1e20, col);
            case 11 -> Gen.bad(new BigDecimal("100000000000000000000"), col);
            case 12 -> Gen.bad(new BigDecimal("2.5"), col);
            case 13 -> Gen.bad(Double.POSITIVE_INFINITY, col);
            case 14 -> Gen.bad("3", col);
            default -> Gen.bad(List.of(1), col);
        };
    }

    static Gen number(Random r, String col) {
        return switch (r.nextInt(8)) {
            case 0, 1 -> Gen.ok(null, null);
            case 2 -> {
                double v = r.nextDouble();
                yield Gen.ok(v, v);
            }
            case 3 -> Gen.ok(Double.NaN, Double.NaN);
            case 4 -> {
                int v = r.nextInt(3);
                yield Gen.ok(v, (double) v);
            }
            case 5 -> Gen.ok(new BigDecimal("0.75"), 0.75);
            case 6 -> Gen.ok(0.5f, 0.5);
            default -> Gen.bad(r.nextBoolean() ? "0.7" : (Object) Boolean.TRUE, col);
        };
    }

    static Gen stop(Random r) {
        int kind = r.nextInt(10);
        if (kind == 0) {
            return Gen.ok(null, null);
        }
        if (kind == 1) {
            return Gen.bad("\n", "stop");
        }
        int n = kind == 2 ? 0 : kind == 3 ? 3000 + r.nextInt(2000) : 1 + r.nextInt(4);
        List<Object> items = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        String bad = null;
        int faultAt = n > 0 && r.nextInt(3) == 0 ? r.nextInt(n) : -1;
        for (int k = 0; k < n; k++) {
            if (k == faultAt) {
                items.add(r.nextBoolean() ? null : (Object) k);
                bad = "stop[" + k + "]";
            } else {
                String s = randomString(r);
                items.add(s);
                expected.add(s);
            }
        }
        Object v = container(r, items);
        return bad == null ? Gen.ok(v, expected) : Gen.bad(v, bad);
    }

    static Gen messages(Random r) {
        int kind = r.nextInt(12);
        if (kind <= 1) {
            return Gen.ok(null, null);
        }
        if (kind == 2) {
            return Gen.bad(container(r, new ArrayList<>()), "messages");
        }
        if (kind == 3) {
            return Gen.bad("hello", "messages");
        }
        int n = kind == 4 ? 500 + r.nextInt(500) : 1 + r.nextInt(4);
        List<Object> items = new ArrayList<>();
        List<PromptRow.ChatMessage> expected = new ArrayList<>();
        String bad = null;
        int faultAt = r.nextInt(2) == 0 ? r.nextInt(n) : -1;
        for (int j = 0; j < n; j++) {
            String at = "messages[" + j + "]";
            int f = j == faultAt ? r.nextInt(7) : 99;
            Object role = r.nextBoolean() ? "user" : "assistant";
            if (f == 0) {
                items.add(null);
                bad = at;
                continue;
            }
            if (f == 1) {
                items.add("not a struct");
                bad = at;
                continue;
            }
            if (f == 2 || f == 3) {
                role = f == 2 ? null : (Object) 7;
                bad = at + ".role";
            }
            Object content;
            String text;
            if (r.nextBoolean()) {
                text = randomString(r);
                content = text;
                if (bad == null && f == 4) {
                    content = null;
                    bad = at + ".content";
                } else if (bad == null && f == 5) {
                    content = 42;
                    bad = at + ".content";
                }
            } else {
                int parts = r.nextInt(4);
                List<Object> ps = new ArrayList<>();
                List<String> texts = new ArrayList<>();
                int partFault = j == faultAt && f == 6 && parts > 0 ? r.nextInt(parts) : -1;
                for (int k = 0; k < parts; k++) {
                    String pat = at + ".content[" + k + "]";
                    int g = k == partFault ? r.nextInt(4) : 99;
                    String t = randomString(r);
                    if (g == 0) {
                        ps.add(null);
                        bad = pat;
                    } else if (g == 1) {
                        ps.add(new GenericRowWithSchema(new Object[]{null, t}, PART));
                        bad = pat + ".type";
                    } else if (g == 2) {
                        ps.add(new GenericRowWithSchema(new Object[]{"image_url", null}, PART));
                        bad = pat + ".type";
                    } else if (g == 3) {
                        ps.add(new GenericRowWithSchema(new Object[]{"text", null}, PART));
                        bad = pat + ".text";
                    } else {
                        ps.add(new GenericRowWithSchema(new Object[]{"text", t}, PART));
                        texts.add(t);
                    }
                }
                content = container(r, ps);
                text = String.join(RowValues.PART_SEPARATOR, texts);
            }
            items.add(new GenericRowWithSchema(new Object[]{role, content}, MESSAGE));
            if (role instanceof String s) {
                expected.add(new PromptRow.ChatMessage(s, text));
            }
        }
        Object v = container(r, items);
        return bad == null ? Gen.ok(v, expected) : Gen.bad(v, bad);
    }

    /** Arrays reach the reader as Scala sequences from Spark, as Java lists from callers. */
    static Object container(Random r, List<Object> items) {
        return r.nextBoolean() ? items : CollectionConverters.asScala(items).toSeq();
    }

    static Object seq(Object... items) {
        return CollectionConverters.asScala(java.util.Arrays.asList(items)).toSeq();
    }

    static String randomString(Random r) {
        String[] pieces = {"def ", "x", "😀", "日本", "\u0000", "", " ", "\n", "שלום", "e\u0301"};
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(4); i >= 0; i--) {
            b.append(pieces[r.nextInt(pieces.length)]);
        }
        return b.toString();
    }
}
