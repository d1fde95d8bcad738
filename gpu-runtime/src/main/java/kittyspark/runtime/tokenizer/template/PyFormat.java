package kittyspark.runtime.tokenizer.template;

import java.util.List;
import java.util.Map;

/** Python's {@code "..." % args} and {@code "...".format(...)} for the simple forms templates use. */
final class PyFormat {
    private PyFormat() {
    }

    /** printf-style: %s %r %d %i %f %% (with optional width and precision), args a tuple or one value. */
    static String percent(String format, Object args) {
        List<?> values = args instanceof TupleValue t ? t : List.of(args == null ? NoneHolder.NONE : args);
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            int j = i + 1;
            while (j < format.length() && "-+ 0#.0123456789".indexOf(format.charAt(j)) >= 0) {
                j++;
            }
            if (j >= format.length()) {
                throw new TemplateException("incomplete format");
            }
            char conv = format.charAt(j);
            String spec = format.substring(i + 1, j);
            i = j;
            if (conv == '%') {
                out.append('%');
                continue;
            }
            if (next >= values.size()) {
                throw new TemplateException("not enough arguments for format string");
            }
            Object v = values.get(next++);
            if (v == NoneHolder.NONE) {
                v = null;
            }
            switch (conv) {
                case 's' -> out.append(String.format("%" + spec + "s", PyValues.str(v)));
                case 'r' -> out.append(String.format("%" + spec + "s", PyValues.repr(v)));
                case 'd', 'i' -> out.append(String.format("%" + spec + "d", PyValues.toLong(number(v))));
                case 'f', 'F' -> out.append(String.format("%" + (spec.contains(".") ? spec : spec + ".6") + "f",
                        PyValues.toDouble(number(v))));
                default -> throw new TemplateException("unsupported format character '" + conv + "'");
            }
        }
        if (next < values.size()) {
            throw new TemplateException("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static Object number(Object v) {
        if (!PyValues.isNumber(v)) {
            throw new TemplateException("a number is required, not " + PyValues.typeName(v));
        }
        return v;
    }

    /** str.format with "{}", "{0}" and "{name}" fields (no format specs beyond none). */
    static String format(String format, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c == '{' && i + 1 < format.length() && format.charAt(i + 1) == '{') {
                out.append('{');
                i++;
            } else if (c == '}' && i + 1 < format.length() && format.charAt(i + 1) == '}') {
                out.append('}');
                i++;
            } else if (c == '{') {
                int close = format.indexOf('}', i);
                if (close < 0) {
                    throw new TemplateException("single '{' encountered in format string");
                }
                String field = format.substring(i + 1, close);
                if (field.contains(":") || field.contains("!")) {
                    throw new TemplateException("format specs are not supported: {" + field + "}");
                }
                Object v;
                if (field.isEmpty()) {
                    v = arg(args, auto++);
                } else if (field.chars().allMatch(Character::isDigit)) {
                    v = arg(args, Integer.parseInt(field));
                } else if (kwargs.containsKey(field)) {
                    v = kwargs.get(field);
                } else {
                    throw new TemplateException("KeyError: " + PyStrings.repr(field));
                }
                out.append(PyValues.str(v));
                i = close;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static Object arg(List<Object> args, int i) {
        if (i >= args.size()) {
            throw new TemplateException("Replacement index " + i + " out of range for positional args tuple");
        }
        return args.get(i);
    }

    /** Stands for None inside an immutable list. */
    private enum NoneHolder { NONE }
}
