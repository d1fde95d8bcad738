package kittyspark.runtime.tokenizer.template;

import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(value, ensure_ascii, indent, separators, sort_keys)}, which is what
 * Hugging Face's {@code tojson} filter calls (defaults: non-ASCII kept, separators ", " and ": ",
 * keys in insertion order).
 */
final class PyJson {
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    PyJson(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator != null ? itemSeparator : indent != null ? "," : ", ";
        this.keySeparator = keySeparator != null ? keySeparator : ": ";
        this.sortKeys = sortKeys;
    }

    String dumps(Object v) {
        StringBuilder b = new StringBuilder();
        write(v, b, 0);
        return b.toString();
    }

    private void write(Object v, StringBuilder b, int depth) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof Boolean bool) {
            b.append(bool ? "true" : "false");
        } else if (v instanceof Long l) {
            b.append(l);
        } else if (v instanceof Double d) {
            b.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyValues.floatRepr(d));
        } else if (v instanceof String s) {
            string(s, b);
        } else if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                b.append("[]");
                return;
            }
            b.append('[');
            for (int i = 0; i < l.size(); i++) {
                b.append(i > 0 ? itemSeparator : "");
                newline(b, depth + 1);
                write(l.get(i), b, depth + 1);
            }
            newline(b, depth);
            b.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            List<? extends Map.Entry<?, ?>> entries = List.copyOf(m.entrySet());
            if (sortKeys) {
                entries = entries.stream().sorted((x, y) -> PyValues.compare(key(x.getKey()), key(y.getKey()), "<")).toList();
            }
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                b.append(first ? "" : itemSeparator);
                first = false;
                newline(b, depth + 1);
                string(key(e.getKey()), b);
                b.append(keySeparator);
                write(e.getValue(), b, depth + 1);
            }
            newline(b, depth);
            b.append('}');
        } else {
            throw new TemplateException("Object of type " + PyValues.typeName(v) + " is not JSON serializable");
        }
    }

    /** JSON object keys are strings: numbers, booleans and None are converted as json.dumps does. */
    private static String key(Object k) {
        if (k instanceof String s) {
            return s;
        }
        if (k == null) {
            return "null";
        }
        if (k instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (k instanceof Long || k instanceof Double) {
            return PyValues.repr(k);
        }
        throw new TemplateException("keys must be str, int, float, bool or None, not " + PyValues.typeName(k));
    }

    private void newline(StringBuilder b, int depth) {
        if (indent != null) {
            b.append('\n').append(indent.repeat(depth));
        }
    }

    private void string(String s, StringBuilder b) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7E)) {
                        b.append(String.format("\\u%04x", (int) c)); // UTF-16 units, so astral characters become pairs
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
