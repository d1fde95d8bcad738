package kittyspark.pipeline.plan;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Reads the values of one input row, nested ones included, without ever throwing: the first
 * value that cannot be used is kept as the row's {@link PromptRow.Problem} (naming the field,
 * down to the array index) and reads as null. The input schema is checked once on the driver,
 * but a row is still read defensively: one odd value must cost one row, never the task.
 */
final class RowValues {
    /** Multi-part message content: text parts are joined with this, as OpenAI-style servers do. */
    static final String PART_SEPARATOR = "\n";
    private static final Object ABSENT = new Object();

    private final Row row;
    private PromptRow.Problem problem;

    RowValues(Row row) {
        this.row = row;
    }

    PromptRow.Problem problem() {
        return problem;
    }

    private <T> T fail(String message, Object value) {
        if (problem == null) {
            problem = new PromptRow.Problem(message, StableHash.sha256Hex(canonical(value)));
        }
        return null;
    }

    /** The value of a top-level column, or {@link #ABSENT} when the row has no such column. */
    private Object raw(String column) {
        return field(row, column);
    }

    private static Object field(Row r, String name) {
        StructType schema = r.schema();
        if (schema == null) {
            return ABSENT;
        }
        for (int i = 0; i < schema.fields().length; i++) {
            if (schema.fields()[i].name().equals(name)) {
                return i < r.length() ? r.get(i) : ABSENT;
            }
        }
        return ABSENT;
    }

    /** The id: a string, or an integer as its decimal text (integer id columns are taken as they are). */
    String id(String column) {
        Object v = raw(column);
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return String.valueOf(((Number) v).longValue());
        }
        return string(column);
    }

    String string(String column) {
        Object v = raw(column);
        if (v == ABSENT || v == null) {
            return null;
        }
        return v instanceof String s ? s : fail(column + ": expected a string, got " + typeOf(v), v);
    }

    /** An integer value; a fractional, NaN or out-of-range number is the row's problem, never silently cut. */
    Long wholeNumber(String column) {
        Object v = raw(column);
        if (v == ABSENT || v == null) {
            return null;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d) || d != Math.rint(d)) {
                return fail(column + " is " + d + ", not a whole number", v);
            }
            // 2^63 is exactly representable; every double below it in magnitude fits a long.
            if (d >= 0x1p63 || d < -0x1p63) {
                return fail(column + " is " + d + ", which does not fit in a 64-bit integer", v);
            }
            return (long) d;
        }
        if (v instanceof BigDecimal b) {
            if (b.signum() != 0 && b.stripTrailingZeros().scale() > 0) {
                return fail(column + " is " + b.toPlainString() + ", not a whole number", v);
            }
            BigInteger i = b.toBigInteger();
            return i.bitLength() > 63 ? fail(column + " is " + b.toPlainString() + ", which does not fit in a 64-bit integer", v)
                    : i.longValue();
        }
        if (v instanceof BigInteger i) {
            return i.bitLength() > 63 ? fail(column + " is " + i + ", which does not fit in a 64-bit integer", v) : i.longValue();
        }
        return fail(column + ": expected a number, got " + typeOf(v), v);
    }

    Double number(String column) {
        Object v = raw(column);
        if (v == ABSENT || v == null) {
            return null;
        }
        return v instanceof Number n ? n.doubleValue() : fail(column + ": expected a number, got " + typeOf(v), v);
    }

    List<String> strings(String column) {
        Object v = raw(column);
        if (v == ABSENT || v == null) {
            return null;
        }
        List<?> items = asList(v);
        if (items == null) {
            return fail(column + ": expected an array of strings, got " + typeOf(v), v);
        }
        List<String> out = new ArrayList<>(items.size());
        for (int k = 0; k < items.size(); k++) {
            Object s = items.get(k);
            if (s == null) {
                return fail(column + "[" + k + "] is null", v);
            }
            if (!(s instanceof String str)) {
                return fail(column + "[" + k + "]: expected a string, got " + typeOf(s), v);
            }
            out.add(str);
        }
        return out;
    }

    List<PromptRow.ChatMessage> messages(String column) {
        Object v = raw(column);
        if (v == ABSENT || v == null) {
            return null;
        }
        List<?> items = asList(v);
        if (items == null) {
            return fail(column + ": expected an array of messages, got " + typeOf(v), v);
        }
        if (items.isEmpty()) {
            return fail(column + " is empty: give at least one message", v);
        }
        List<PromptRow.ChatMessage> out = new ArrayList<>(items.size());
        for (int j = 0; j < items.size(); j++) {
            String name = column + "[" + j + "]";
            Object m = items.get(j);
            if (m == null) {
                return fail(name + " is null", v);
            }
            if (!(m instanceof Row r)) {
                return fail(name + ": expected a struct<role, content>, got " + typeOf(m), v);
            }
            Object role = field(r, "role");
            if (role == ABSENT || role == null) {
                return fail(name + ".role is " + (role == null ? "null" : "missing"), v);
            }
            if (!(role instanceof String roleText)) {
                return fail(name + ".role: expected a string, got " + typeOf(role), v);
            }
            Object content = field(r, "content");
            if (content == ABSENT || content == null) {
                return fail(name + ".content is " + (content == null ? "null" : "missing"), v);
            }
            String text = content instanceof String s ? s : textOfParts(name + ".content", content, v);
            if (text == null) {
                return null;
            }
            out.add(new PromptRow.ChatMessage(roleText, text));
        }
        return out;
    }

    /** OpenAI-style content parts [{type: text, text: ...}, ...]: the text parts joined; any other part is the row's problem. */
    private String textOfParts(String name, Object content, Object whole) {
        List<?> parts = asList(content);
        if (parts == null) {
            return fail(name + ": expected a string or an array of {type, text} parts, got " + typeOf(content), whole);
        }
        StringBuilder text = new StringBuilder();
        for (int k = 0; k < parts.size(); k++) {
            String partName = name + "[" + k + "]";
            Object p = parts.get(k);
            if (p == null) {
                return fail(partName + " is null", whole);
            }
            if (!(p instanceof Row part)) {
                return fail(partName + ": expected a struct<type, text>, got " + typeOf(p), whole);
            }
            Object type = field(part, "type");
            if (type == null) {
                return fail(partName + ".type is null", whole);
            }
            if (type != ABSENT && !"text".equals(type)) {
                return fail(partName + ".type is " + (type instanceof String t ? "'" + t + "'" : typeOf(type))
                        + ": only text parts are supported", whole);
            }
            Object t = field(part, "text");
            if (t == ABSENT || t == null) {
                return fail(partName + ".text is " + (t == null ? "null" : "missing"), whole);
            }
            if (!(t instanceof String s)) {
                return fail(partName + ".text: expected a string, got " + typeOf(t), whole);
            }
            if (k > 0) {
                text.append(PART_SEPARATOR);
            }
            text.append(s);
        }
        return text.toString();
    }

    private static List<?> asList(Object v) {
        if (v instanceof List<?> l) {
            return l;
        }
        if (v instanceof scala.collection.Seq<?> s) {
            return CollectionConverters.asJava(s);
        }
        if (v instanceof Object[] a) {
            return List.of(a);
        }
        return null;
    }

    private static String typeOf(Object v) {
        if (v instanceof Row) {
            return "a struct";
        }
        if (asList(v) != null) {
            return "an array";
        }
        return "a " + v.getClass().getSimpleName();
    }

    /** A stable text form of any row value (for digests): the same value always gives the same text. */
    static String canonical(Object v) {
        StringBuilder b = new StringBuilder();
        canonical(b, v);
        return b.toString();
    }

    private static void canonical(StringBuilder b, Object v) {
        if (v == null) {
            b.append("~");
        } else if (v instanceof String s) {
            b.append('s').append(s.length()).append(':').append(s);
        } else if (v instanceof Row r) {
            b.append('{');
            StructType schema = r.schema();
            for (int i = 0; i < r.length(); i++) {
                b.append(schema == null || i >= schema.size() ? String.valueOf(i) : schema.fields()[i].name()).append('=');
                canonical(b, r.get(i));
                b.append(',');
            }
            b.append('}');
        } else if (asList(v) != null) {
            b.append('[');
            for (Object o : asList(v)) {
                canonical(b, o);
                b.append(',');
            }
            b.append(']');
        } else if (v instanceof scala.collection.Map<?, ?> m) {
            canonical(b, CollectionConverters.asJava(m));
        } else if (v instanceof Map<?, ?> m) {
            b.append('<');
            m.entrySet().stream().map(e -> canonical(e.getKey()) + "=" + canonical(e.getValue())).sorted()
                    .forEach(e -> b.append(e).append(','));
            b.append('>');
        } else if (v instanceof byte[] bytes) {
            b.append("b:").append(java.util.HexFormat.of().formatHex(bytes));
        } else {
            b.append(v.getClass().getSimpleName()).append(':').append(v);
        }
    }
}
