package kittyspark.runtime.tokenizer.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's built-in filters, tests and globals, Python's str/dict/list methods, and attribute
 * lookup, with the meaning they have in Hugging Face's sandboxed, immutable environment: methods
 * that would change a list or dict are refused, and {@code tojson} is Hugging Face's (non-ASCII
 * kept, keys unsorted, Python's separators).
 */
final class Builtins {
    private interface Filter {
        Object apply(Object value, Args args);
    }

    private interface Test {
        boolean test(Object value, Args args);
    }

    private static final Map<String, Filter> FILTERS = new HashMap<>();
    private static final Map<String, Test> TESTS = new HashMap<>();
    private static final Set<String> STRING_METHODS = Set.of("startswith", "endswith", "strip", "lstrip", "rstrip", "split",
            "rsplit", "splitlines", "lower", "upper", "title", "capitalize", "casefold", "swapcase", "replace", "find", "rfind",
            "index", "rindex", "count", "join", "format", "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace",
            "islower", "isupper", "istitle", "zfill", "center", "ljust", "rjust", "partition", "rpartition", "removeprefix",
            "removesuffix");
    private static final Set<String> DICT_METHODS = Set.of("items", "keys", "values", "get", "copy");
    private static final Set<String> LIST_METHODS = Set.of("index", "count", "copy");
    private static final Set<String> MUTATING_METHODS = Set.of("append", "extend", "insert", "pop", "remove", "clear", "sort",
            "reverse", "update", "setdefault", "popitem", "add", "discard");

    private Builtins() {
    }

    static boolean hasFilter(String name) {
        return FILTERS.containsKey(name);
    }

    static boolean hasTest(String name) {
        return TESTS.containsKey(name);
    }

    static Object filter(String name, Object value, Args args) {
        Filter f = FILTERS.get(name);
        if (f == null) {
            throw new TemplateException("no filter named '" + name + "'");
        }
        return f.apply(value, args);
    }

    static boolean test(String name, Object value, Args args) {
        Test t = TESTS.get(name);
        if (t == null) {
            throw new TemplateException("no test named '" + name + "'");
        }
        return t.test(value, args);
    }

    /** The globals every template sees (Hugging Face adds raise_exception and strftime_now on top). */
    static Map<String, Object> globals() {
        Map<String, Object> g = new HashMap<>();
        g.put("range", (PyCallable) (args, kwargs) -> range(args));
        g.put("dict", (PyCallable) (args, kwargs) -> {
            Map<Object, Object> out = new LinkedHashMap<>();
            if (!args.isEmpty()) {
                if (!(args.get(0) instanceof Map<?, ?> m)) {
                    throw new TemplateException("dict() takes a mapping");
                }
                out.putAll(m);
            }
            out.putAll(kwargs);
            return out;
        });
        g.put("namespace", (PyCallable) (args, kwargs) -> {
            Namespace ns = new Namespace();
            for (Object a : args) {
                if (!(a instanceof Map<?, ?> m)) {
                    throw new TemplateException("namespace() takes a mapping or keyword arguments");
                }
                m.forEach((k, v) -> ns.attrs.put(PyValues.str(k), v));
            }
            ns.attrs.putAll(kwargs);
            return ns;
        });
        g.put("joiner", (PyCallable) (args, kwargs) -> {
            String sep = args.isEmpty() ? ", " : PyValues.str(args.get(0));
            boolean[] used = {false};
            return (PyCallable) (a, k) -> {
                if (!used[0]) {
                    used[0] = true;
                    return "";
                }
                return sep;
            };
        });
        return g;
    }

    private static Object range(List<Object> args) {
        if (args.isEmpty() || args.size() > 3 || !args.stream().allMatch(a -> a instanceof Long || a instanceof Boolean)) {
            throw new TemplateException("range() takes one to three integers");
        }
        long start = args.size() == 1 ? 0 : PyValues.toLong(args.get(0));
        long stop = PyValues.toLong(args.get(args.size() == 1 ? 0 : 1));
        long step = args.size() == 3 ? PyValues.toLong(args.get(2)) : 1;
        if (step == 0) {
            throw new TemplateException("range() arg 3 must not be zero");
        }
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (out.size() >= 100_000) {
                throw new TemplateException("range too big: more than 100000 items");
            }
            out.add(i);
        }
        return out;
    }

    // ---- attribute lookup ------------------------------------------------------------------

    /** {@code value.name}: a method or attribute first, then (for a dict) the item, else Undefined. */
    static Object getAttr(Object value, String name) {
        if (value instanceof Undefined u) {
            throw u.fail();
        }
        Object attr = attributeOnly(value, name);
        if (attr != PyValues.MISSING) {
            return attr;
        }
        if (value instanceof Map<?, ?>) {
            Object item = PyValues.getItem(value, name);
            return item instanceof Undefined ? Undefined.attribute(value, name) : item;
        }
        return Undefined.attribute(value, name);
    }

    /** {@code value[key]}: the item first, then for a string key the attribute, as Jinja2's getitem does. */
    static Object getItem(Object value, Object key) {
        if (value instanceof Undefined u) {
            throw u.fail();
        }
        Object item = PyValues.getItem(value, key);
        if (item instanceof Undefined && key instanceof String s) {
            Object attr = attributeOnly(value, s);
            if (attr != PyValues.MISSING) {
                return attr;
            }
        }
        return item;
    }

    private static Object attributeOnly(Object value, String name) {
        if (value instanceof Namespace ns) {
            return ns.attrs.containsKey(name) ? ns.attrs.get(name) : PyValues.MISSING;
        }
        if (value instanceof TupleValue t && t.fieldIndex(name) >= 0) {
            return t.get(t.fieldIndex(name));
        }
        if (value instanceof LoopContext loop) {
            Object a = loop.attribute(name);
            return a instanceof Undefined ? PyValues.MISSING : a;
        }
        if (MUTATING_METHODS.contains(name) && (value instanceof List || value instanceof Map)) {
            return new Undefined("access to attribute '" + name + "' of '" + PyValues.typeName(value) + "' object is unsafe");
        }
        if (value instanceof String s && STRING_METHODS.contains(name)) {
            return (PyCallable) (args, kwargs) -> stringMethod(s, name, new Args("str." + name, args, kwargs));
        }
        if (value instanceof Map<?, ?> m && DICT_METHODS.contains(name)) {
            return (PyCallable) (args, kwargs) -> dictMethod(m, name, new Args("dict." + name, args, kwargs));
        }
        if (value instanceof List<?> l && LIST_METHODS.contains(name)) {
            return (PyCallable) (args, kwargs) -> listMethod(l, name, new Args("list." + name, args, kwargs));
        }
        return PyValues.MISSING;
    }

    private static Object stringMethod(String s, String name, Args a) {
        switch (name) {
            case "startswith":
            case "endswith": {
                a.check(1, Set.of());
                Object arg = a.get(0, "prefix", null);
                List<?> options = arg instanceof TupleValue t ? t : List.of(arg == null ? "\u0000none" : arg);
                for (Object o : options) {
                    if (!(o instanceof String p)) {
                        throw new TemplateException(name + " first arg must be str or a tuple of str, not " + PyValues.typeName(o));
                    }
                    if (name.equals("startswith") ? s.startsWith(p) : s.endsWith(p)) {
                        return true;
                    }
                }
                return false;
            }
            case "strip":
                return PyStrings.strip(s, a.check(1, Set.of()).string(0, "chars", null));
            case "lstrip":
                return PyStrings.lstrip(s, a.check(1, Set.of()).string(0, "chars", null));
            case "rstrip":
                return PyStrings.rstrip(s, a.check(1, Set.of()).string(0, "chars", null));
            case "split":
            case "rsplit": {
                a.check(2, Set.of("sep", "maxsplit"));
                String sep = a.string(0, "sep", null);
                int max = (int) a.integer(1, "maxsplit", -1);
                return new ArrayList<Object>(name.equals("split") ? PyStrings.split(s, sep, max) : PyStrings.rsplit(s, sep, max));
            }
            case "splitlines":
                return new ArrayList<Object>(PyStrings.splitlines(s));
            case "lower":
            case "casefold":
                return PyStrings.lower(s);
            case "upper":
                return PyStrings.upper(s);
            case "title":
                return PyStrings.title(s);
            case "capitalize":
                return PyStrings.capitalize(s);
            case "swapcase": {
                StringBuilder b = new StringBuilder();
                s.codePoints().forEach(cp -> b.append(Character.isUpperCase(cp) ? PyStrings.lower(Character.toString(cp))
                        : PyStrings.upper(Character.toString(cp))));
                return b.toString();
            }
            case "replace": {
                a.check(3, Set.of());
                String old = a.string(0, "old", null);
                String with = a.string(1, "new", null);
                long count = a.integer(2, "count", -1);
                return replace(s, old, with, count);
            }
            case "find":
            case "index": {
                String sub = a.check(1, Set.of()).string(0, "sub", null);
                int at = s.indexOf(sub);
                if (at < 0 && name.equals("index")) {
                    throw new TemplateException("substring not found");
                }
                return (long) (at < 0 ? -1 : s.codePointCount(0, at));
            }
            case "rfind":
            case "rindex": {
                String sub = a.check(1, Set.of()).string(0, "sub", null);
                int at = s.lastIndexOf(sub);
                if (at < 0 && name.equals("rindex")) {
                    throw new TemplateException("substring not found");
                }
                return (long) (at < 0 ? -1 : s.codePointCount(0, at));
            }
            case "count": {
                String sub = a.check(1, Set.of()).string(0, "sub", null);
                if (sub.isEmpty()) {
                    return (long) PyStrings.length(s) + 1;
                }
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    n++;
                }
                return n;
            }
            case "join": {
                List<String> parts = new ArrayList<>();
                for (Object o : PyValues.iterate(a.check(1, Set.of()).get(0, "iterable", null))) {
                    if (!(o instanceof String str)) {
                        throw new TemplateException("sequence item " + parts.size() + ": expected str instance, "
                                + PyValues.typeName(o) + " found");
                    }
                    parts.add(str);
                }
                return String.join(s, parts);
            }
            case "format":
                return PyFormat.format(s, a.positional(), a.named());
            case "isdigit":
            case "isdecimal":
            case "isnumeric":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum":
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace":
                return !s.isEmpty() && s.codePoints().allMatch(PyStrings::isSpace);
            case "islower":
                return PyStrings.isLower(s);
            case "isupper":
                return PyStrings.isUpper(s);
            case "istitle":
                return !s.isEmpty() && PyStrings.title(s).equals(s) && s.codePoints().anyMatch(Character::isLetter);
            case "zfill": {
                int width = (int) a.check(1, Set.of()).integer(0, "width", 0);
                int len = PyStrings.length(s);
                if (len >= width) {
                    return s;
                }
                boolean signed = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+');
                return (signed ? s.substring(0, 1) : "") + "0".repeat(width - len) + (signed ? s.substring(1) : s);
            }
            case "center":
            case "ljust":
            case "rjust": {
                a.check(2, Set.of());
                int width = (int) a.integer(0, "width", 0);
                String fill = a.string(1, "fillchar", " ");
                int pad = width - PyStrings.length(s);
                if (pad <= 0) {
                    return s;
                }
                if (name.equals("ljust")) {
                    return s + fill.repeat(pad);
                }
                if (name.equals("rjust")) {
                    return fill.repeat(pad) + s;
                }
                int left = pad / 2 + (pad & width & 1); // CPython's rounding for center
                return fill.repeat(left) + s + fill.repeat(pad - left);
            }
            case "partition":
            case "rpartition": {
                String sep = a.check(1, Set.of()).string(0, "sep", null);
                int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) {
                    return name.equals("partition") ? new TupleValue(List.of(s, "", "")) : new TupleValue(List.of("", "", s));
                }
                return new TupleValue(List.of(s.substring(0, at), sep, s.substring(at + sep.length())));
            }
            case "removeprefix": {
                String p = a.check(1, Set.of()).string(0, "prefix", null);
                return s.startsWith(p) ? s.substring(p.length()) : s;
            }
            case "removesuffix": {
                String p = a.check(1, Set.of()).string(0, "suffix", null);
                return !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s;
            }
            default:
                throw new IllegalStateException(name);
        }
    }

    private static String replace(String s, String old, String with, long count) {
        if (count < 0) {
            if (old.isEmpty()) {
                StringBuilder b = new StringBuilder(with);
                s.codePoints().forEach(cp -> b.appendCodePoint(cp).append(with));
                return b.toString();
            }
            return s.replace(old, with);
        }
        StringBuilder b = new StringBuilder();
        int from = 0;
        long done = 0;
        if (old.isEmpty()) {
            int[] cps = PyStrings.codePoints(s);
            for (int i = 0; i <= cps.length; i++) {
                if (done < count) {
                    b.append(with);
                    done++;
                }
                if (i < cps.length) {
                    b.appendCodePoint(cps[i]);
                }
            }
            return b.toString();
        }
        while (done < count) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            b.append(s, from, at).append(with);
            from = at + old.length();
            done++;
        }
        return b.append(s.substring(from)).toString();
    }

    private static Object dictMethod(Map<?, ?> m, String name, Args a) {
        switch (name) {
            case "items": {
                List<Object> out = new ArrayList<>();
                m.forEach((k, v) -> out.add(new TupleValue(java.util.Arrays.asList(k, v))));
                return out;
            }
            case "keys":
                return new ArrayList<Object>(m.keySet());
            case "values":
                return new ArrayList<Object>(m.values());
            case "get": {
                a.check(2, Set.of());
                Object k = PyValues.findKey(m, a.get(0, "key", null));
                return k == PyValues.MISSING ? a.get(1, "default", null) : m.get(k);
            }
            case "copy":
                return new LinkedHashMap<Object, Object>(m);
            default:
                throw new IllegalStateException(name);
        }
    }

    private static Object listMethod(List<?> l, String name, Args a) {
        switch (name) {
            case "index": {
                Object x = a.check(1, Set.of()).get(0, "value", null);
                for (int i = 0; i < l.size(); i++) {
                    if (PyValues.eq(l.get(i), x)) {
                        return (long) i;
                    }
                }
                throw new TemplateException(PyValues.repr(x) + " is not in list");
            }
            case "count":
                return l.stream().filter(o -> PyValues.eq(o, a.get(0, "value", null))).count();
            case "copy":
                return new ArrayList<Object>(l);
            default:
                throw new IllegalStateException(name);
        }
    }

    // ---- filters ---------------------------------------------------------------------------

    private static String soft(Object v) {
        return PyValues.str(v);
    }

    private static Object caseKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? PyStrings.lower(s) : v;
    }

    /** An attribute path "a.b.0" read from an item, as Jinja's make_attrgetter does. */
    private static Object attrPath(Object item, String path, Object fallback) {
        Object v = item;
        for (String part : path.split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            v = getItem(v, key);
            if (v instanceof Undefined) {
                return fallback != null ? fallback : v;
            }
        }
        return v;
    }

    private static Comparator<Object> pyOrder(String attribute, boolean caseSensitive) {
        return (x, y) -> {
            Object a = attribute == null ? x : attrPath(x, attribute, null);
            Object b = attribute == null ? y : attrPath(y, attribute, null);
            return PyValues.compare(caseKey(a, caseSensitive), caseKey(b, caseSensitive), "<");
        };
    }

    static {
        FILTERS.put("abs", (v, a) -> {
            if (v instanceof Double d) {
                return Math.abs(d);
            }
            if (PyValues.isNumber(v)) {
                return Math.abs(PyValues.toLong(v));
            }
            throw new TemplateException("bad operand type for abs(): '" + PyValues.typeName(v) + "'");
        });
        FILTERS.put("attr", (v, a) -> {
            Object r = attributeOnly(v, a.check(1, Set.of()).string(0, "name", ""));
            return r == PyValues.MISSING ? Undefined.attribute(v, a.string(0, "name", "")) : r;
        });
        FILTERS.put("batch", (v, a) -> {
            a.check(2, Set.of("linecount", "fill_with"));
            long size = a.integer(0, "linecount", 1);
            boolean fill = a.has(1, "fill_with");
            Object filler = a.get(1, "fill_with", null);
            List<Object> out = new ArrayList<>();
            List<Object> row = new ArrayList<>();
            for (Object o : PyValues.iterate(v)) {
                row.add(o);
                if (row.size() == size) {
                    out.add(row);
                    row = new ArrayList<>();
                }
            }
            if (!row.isEmpty()) {
                while (fill && row.size() < size) {
                    row.add(filler);
                }
                out.add(row);
            }
            return out;
        });
        FILTERS.put("capitalize", (v, a) -> PyStrings.capitalize(soft(v)));
        FILTERS.put("center", (v, a) -> stringMethod(soft(v), "center",
                new Args("center", List.of(a.get(0, "width", 80L)), Map.of())));
        Filter length = (v, a) -> (long) PyValues.length(v);
        FILTERS.put("length", length);
        FILTERS.put("count", length);
        Filter deflt = (v, a) -> {
            a.check(2, Set.of("default_value", "boolean"));
            boolean bool = a.bool(1, "boolean", false);
            return v instanceof Undefined || (bool && !PyValues.truthy(v)) ? a.get(0, "default_value", "") : v;
        };
        FILTERS.put("default", deflt);
        FILTERS.put("d", deflt);
        FILTERS.put("dictsort", (v, a) -> {
            a.check(3, Set.of("case_sensitive", "by", "reverse"));
            boolean cs = a.bool(0, "case_sensitive", false);
            String by = a.string(1, "by", "key");
            int pos = by.equals("key") ? 0 : by.equals("value") ? 1 : -1;
            if (pos < 0) {
                throw new TemplateException("You can only sort by either \"key\" or \"value\"");
            }
            if (!(v instanceof Map<?, ?> m)) {
                throw new TemplateException("dictsort needs a dict, not " + PyValues.typeName(v));
            }
            List<Object> items = new ArrayList<>();
            m.forEach((k, x) -> items.add(new TupleValue(java.util.Arrays.asList(k, x))));
            Comparator<Object> c = (x, y) -> PyValues.compare(caseKey(((List<?>) x).get(pos), cs),
                    caseKey(((List<?>) y).get(pos), cs), "<");
            items.sort(a.bool(2, "reverse", false) ? c.reversed() : c);
            return items;
        });
        Filter escape = (v, a) -> soft(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&#34;").replace("'", "&#39;");
        FILTERS.put("escape", escape);
        FILTERS.put("e", escape);
        FILTERS.put("forceescape", escape);
        FILTERS.put("first", (v, a) -> {
            List<Object> items = PyValues.iterate(v);
            return items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
        });
        FILTERS.put("last", (v, a) -> {
            List<Object> items = v instanceof Map ? new ArrayList<>(PyValues.iterate(v)) : PyValues.iterate(v);
            return items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.get(items.size() - 1);
        });
        FILTERS.put("float", (v, a) -> {
            Object fallback = a.check(1, Set.of("default")).get(0, "default", 0.0);
            if (PyValues.isNumber(v)) {
                return PyValues.toDouble(v);
            }
            if (v instanceof String s) {
                try {
                    return Double.parseDouble(s.strip());
                } catch (NumberFormatException e) {
                    return fallback;
                }
            }
            return fallback;
        });
        FILTERS.put("int", (v, a) -> {
            a.check(2, Set.of("default", "base"));
            Object fallback = a.get(0, "default", 0L);
            int base = (int) a.integer(1, "base", 10);
            if (v instanceof Double d) {
                return (long) (double) d;
            }
            if (PyValues.isNumber(v)) {
                return PyValues.toLong(v);
            }
            if (v instanceof String s) {
                String t = s.strip().replace("_", "");
                String lower = t.toLowerCase(java.util.Locale.ROOT);
                boolean negative = lower.startsWith("-");
                String digits = negative || lower.startsWith("+") ? lower.substring(1) : lower;
                // Python's int(text, base) accepts the base's prefix; base 0 reads it to choose the base.
                for (String[] prefix : new String[][] {{"0x", "16"}, {"0o", "8"}, {"0b", "2"}}) {
                    if (digits.startsWith(prefix[0]) && (base == 0 || base == Integer.parseInt(prefix[1]))) {
                        digits = digits.substring(2);
                        base = Integer.parseInt(prefix[1]);
                    }
                }
                if (base == 0) {
                    base = 10;
                }
                t = (negative ? "-" : "") + digits;
                try {
                    return Long.parseLong(t, base);
                } catch (NumberFormatException e) {
                    try {
                        return (long) Double.parseDouble(t);
                    } catch (NumberFormatException e2) {
                        return fallback;
                    }
                }
            }
            return fallback;
        });
        FILTERS.put("format", (v, a) -> {
            if (!a.named().isEmpty() && a.size() > 0) {
                throw new TemplateException("can't handle positional and keyword arguments at the same time");
            }
            return PyFormat.percent(soft(v), a.named().isEmpty() ? new TupleValue(a.positional()) : new TupleValue(List.of()));
        });
        FILTERS.put("groupby", (v, a) -> {
            a.check(2, Set.of("attribute", "default", "case_sensitive"));
            String attribute = PyValues.str(a.get(0, "attribute", null));
            Object fallback = a.get(1, "default", null);
            boolean cs = a.bool(2, "case_sensitive", false);
            List<Object> items = new ArrayList<>(PyValues.iterate(v));
            items.sort((x, y) -> PyValues.compare(caseKey(attrPath(x, attribute, fallback), cs),
                    caseKey(attrPath(y, attribute, fallback), cs), "<"));
            List<Object> out = new ArrayList<>();
            Object currentKey = PyValues.MISSING;
            List<Object> group = null;
            for (Object item : items) {
                Object key = caseKey(attrPath(item, attribute, fallback), cs);
                if (currentKey == PyValues.MISSING || !PyValues.eq(key, currentKey)) {
                    group = new ArrayList<>();
                    out.add(new TupleValue(java.util.Arrays.asList(attrPath(item, attribute, fallback), group),
                            List.of("grouper", "list")));
                    currentKey = key;
                }
                group.add(item);
            }
            return out;
        });
        FILTERS.put("indent", (v, a) -> {
            a.check(3, Set.of("width", "first", "blank"));
            Object w = a.get(0, "width", 4L);
            String pad = w instanceof String s ? s : " ".repeat((int) PyValues.toLong(w));
            boolean first = a.bool(1, "first", false);
            boolean blank = a.bool(2, "blank", false);
            String s = soft(v) + "\n"; // Jinja appends a newline so the last line is indented like the others
            List<String> lines = PyStrings.splitlines(s);
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (i > 0) {
                    b.append('\n');
                }
                boolean indentThis = (i > 0 || first) && (blank || !line.isEmpty());
                b.append(indentThis ? pad : "").append(line);
            }
            return b.toString();
        });
        FILTERS.put("items", (v, a) -> {
            if (v instanceof Undefined) {
                return new ArrayList<>();
            }
            if (!(v instanceof Map<?, ?> m)) {
                throw new TemplateException("Can only get item pairs from a mapping.");
            }
            return dictMethod(m, "items", a);
        });
        FILTERS.put("join", (v, a) -> {
            a.check(2, Set.of("d", "attribute"));
            String sep = soft(a.get(0, "d", ""));
            Object attribute = a.get(1, "attribute", null);
            StringBuilder b = new StringBuilder();
            boolean firstItem = true;
            for (Object o : PyValues.iterate(v)) {
                b.append(firstItem ? "" : sep).append(soft(attribute == null ? o : attrPath(o, PyValues.str(attribute), null)));
                firstItem = false;
            }
            return b.toString();
        });
        FILTERS.put("list", (v, a) -> new ArrayList<>(PyValues.iterate(v)));
        FILTERS.put("lower", (v, a) -> PyStrings.lower(soft(v)));
        FILTERS.put("upper", (v, a) -> PyStrings.upper(soft(v)));
        FILTERS.put("map", (v, a) -> {
            List<Object> out = new ArrayList<>();
            if (a.named().containsKey("attribute")) {
                String attribute = PyValues.str(a.named().get("attribute"));
                Object fallback = a.named().get("default");
                for (Object o : PyValues.iterate(v)) {
                    out.add(attrPath(o, attribute, fallback));
                }
                return out;
            }
            if (a.size() == 0) {
                throw new TemplateException("map requires a filter argument");
            }
            String name = PyValues.str(a.positional().get(0));
            Args rest = new Args(name, a.positional().subList(1, a.size()), a.named());
            for (Object o : PyValues.iterate(v)) {
                out.add(filter(name, o, rest));
            }
            return out;
        });
        FILTERS.put("max", (v, a) -> extreme(v, a, true));
        FILTERS.put("min", (v, a) -> extreme(v, a, false));
        FILTERS.put("select", (v, a) -> select(v, a, false, false));
        FILTERS.put("reject", (v, a) -> select(v, a, true, false));
        FILTERS.put("selectattr", (v, a) -> select(v, a, false, true));
        FILTERS.put("rejectattr", (v, a) -> select(v, a, true, true));
        FILTERS.put("replace", (v, a) -> {
            a.check(3, Set.of("old", "new", "count"));
            Object count = a.get(2, "count", null);
            return replace(soft(v), soft(a.get(0, "old", "")), soft(a.get(1, "new", "")), count == null ? -1 : PyValues.toLong(count));
        });
        FILTERS.put("reverse", (v, a) -> {
            if (v instanceof String s) {
                return new StringBuilder(s).reverse().toString();
            }
            List<Object> out = new ArrayList<>(PyValues.iterate(v));
            java.util.Collections.reverse(out);
            return out;
        });
        FILTERS.put("round", (v, a) -> {
            a.check(2, Set.of("precision", "method"));
            int precision = (int) a.integer(0, "precision", 0);
            String method = a.string(1, "method", "common");
            BigDecimal d = new BigDecimal(PyValues.toDouble(v));
            RoundingMode mode = switch (method) {
                case "common" -> RoundingMode.HALF_EVEN; // Python's round() on the exact binary value
                case "ceil" -> RoundingMode.CEILING;
                case "floor" -> RoundingMode.FLOOR;
                default -> throw new TemplateException("method must be common, ceil or floor");
            };
            return d.setScale(precision, mode).doubleValue();
        });
        FILTERS.put("safe", (v, a) -> soft(v));
        FILTERS.put("sort", (v, a) -> {
            a.check(3, Set.of("reverse", "case_sensitive", "attribute"));
            Object attribute = a.get(2, "attribute", null);
            Comparator<Object> c = pyOrder(attribute == null ? null : PyValues.str(attribute), a.bool(1, "case_sensitive", false));
            List<Object> out = new ArrayList<>(PyValues.iterate(v));
            out.sort(a.bool(0, "reverse", false) ? c.reversed() : c);
            return out;
        });
        FILTERS.put("string", (v, a) -> soft(v));
        FILTERS.put("sum", (v, a) -> {
            a.check(2, Set.of("attribute", "start"));
            Object attribute = a.get(0, "attribute", null);
            Object total = a.get(1, "start", 0L);
            for (Object o : PyValues.iterate(v)) {
                total = PyValues.arithmetic("+", total, attribute == null ? o : attrPath(o, PyValues.str(attribute), null));
            }
            return total;
        });
        FILTERS.put("title", (v, a) -> PyStrings.jinjaTitle(soft(v)));
        FILTERS.put("tojson", (v, a) -> {
            a.check(4, Set.of("ensure_ascii", "indent", "separators", "sort_keys"));
            Object indent = a.get(1, "indent", null);
            Object seps = a.get(2, "separators", null);
            String item = null;
            String key = null;
            if (seps != null) {
                List<Object> s = PyValues.iterate(seps);
                item = PyValues.str(s.get(0));
                key = PyValues.str(s.get(1));
            }
            String indentText = indent == null ? null : indent instanceof String s ? s : " ".repeat((int) PyValues.toLong(indent));
            return new PyJson(a.bool(0, "ensure_ascii", false), indentText, item, key, a.bool(3, "sort_keys", false)).dumps(v);
        });
        FILTERS.put("trim", (v, a) -> PyStrings.strip(soft(v), a.check(1, Set.of("chars")).string(0, "chars", null)));
        FILTERS.put("truncate", (v, a) -> {
            a.check(4, Set.of("length", "killwords", "end", "leeway"));
            String s = soft(v);
            int len = (int) a.integer(0, "length", 255);
            boolean kill = a.bool(1, "killwords", false);
            String end = a.string(2, "end", "...");
            int leeway = (int) a.integer(3, "leeway", 5);
            if (PyStrings.length(s) <= len + leeway) {
                return s;
            }
            String cut = (String) PyValues.slice(s, null, (long) (len - PyStrings.length(end)), null);
            if (kill) {
                return cut + end;
            }
            int space = cut.lastIndexOf(' ');
            return (space >= 0 ? cut.substring(0, space) : cut) + end;
        });
        FILTERS.put("unique", (v, a) -> {
            a.check(2, Set.of("case_sensitive", "attribute"));
            boolean cs = a.bool(0, "case_sensitive", false);
            Object attribute = a.get(1, "attribute", null);
            List<Object> out = new ArrayList<>();
            List<Object> seen = new ArrayList<>();
            for (Object o : PyValues.iterate(v)) {
                Object key = caseKey(attribute == null ? o : attrPath(o, PyValues.str(attribute), null), cs);
                if (seen.stream().noneMatch(s -> PyValues.eq(s, key))) {
                    seen.add(key);
                    out.add(o);
                }
            }
            return out;
        });
        FILTERS.put("wordcount", (v, a) -> {
            Matcher m = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS).matcher(soft(v));
            long n = 0;
            while (m.find()) {
                n++;
            }
            return n;
        });

        TESTS.put("boolean", (v, a) -> v instanceof Boolean);
        TESTS.put("callable", (v, a) -> v instanceof PyCallable);
        TESTS.put("defined", (v, a) -> !(v instanceof Undefined));
        TESTS.put("undefined", (v, a) -> v instanceof Undefined);
        TESTS.put("divisibleby", (v, a) -> {
            Object n = a.get(0, "num", null);
            return PyValues.eq(PyValues.arithmetic("%", v, n), 0L);
        });
        Test eq = (v, a) -> PyValues.eq(v, a.get(0, "other", null));
        TESTS.put("eq", eq);
        TESTS.put("equalto", eq);
        TESTS.put("==", eq);
        Test ne = (v, a) -> !PyValues.eq(v, a.get(0, "other", null));
        TESTS.put("ne", ne);
        TESTS.put("!=", ne);
        TESTS.put("escaped", (v, a) -> false);
        TESTS.put("even", (v, a) -> PyValues.toLong(integerOnly(v)) % 2 == 0);
        TESTS.put("odd", (v, a) -> PyValues.toLong(integerOnly(v)) % 2 != 0);
        TESTS.put("false", (v, a) -> Boolean.FALSE.equals(v));
        TESTS.put("true", (v, a) -> Boolean.TRUE.equals(v));
        TESTS.put("filter", (v, a) -> v instanceof String s && FILTERS.containsKey(s));
        TESTS.put("test", (v, a) -> v instanceof String s && TESTS.containsKey(s));
        TESTS.put("float", (v, a) -> v instanceof Double);
        TESTS.put("integer", (v, a) -> v instanceof Long);
        TESTS.put("number", (v, a) -> PyValues.isNumber(v));
        TESTS.put("string", (v, a) -> v instanceof String);
        TESTS.put("mapping", (v, a) -> v instanceof Map);
        TESTS.put("iterable", (v, a) -> v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined);
        TESTS.put("sequence", (v, a) -> v instanceof String || v instanceof List || v instanceof Map);
        TESTS.put("none", (v, a) -> v == null);
        TESTS.put("sameas", (v, a) -> {
            Object o = a.get(0, "other", null);
            return v == o || (v != null && o != null && (v instanceof Boolean || v instanceof Long) && v.equals(o));
        });
        TESTS.put("lower", (v, a) -> v instanceof String s && PyStrings.isLower(s));
        TESTS.put("upper", (v, a) -> v instanceof String s && PyStrings.isUpper(s));
        TESTS.put("in", (v, a) -> PyValues.contains(a.get(0, "seq", null), v));
        Test gt = (v, a) -> PyValues.compare(v, a.get(0, "other", null), ">") > 0;
        Test ge = (v, a) -> PyValues.compare(v, a.get(0, "other", null), ">=") >= 0;
        Test lt = (v, a) -> PyValues.compare(v, a.get(0, "other", null), "<") < 0;
        Test le = (v, a) -> PyValues.compare(v, a.get(0, "other", null), "<=") <= 0;
        TESTS.put("gt", gt);
        TESTS.put(">", gt);
        TESTS.put("greaterthan", gt);
        TESTS.put("ge", ge);
        TESTS.put(">=", ge);
        TESTS.put("lt", lt);
        TESTS.put("<", lt);
        TESTS.put("lessthan", lt);
        TESTS.put("le", le);
        TESTS.put("<=", le);
    }

    private static Object integerOnly(Object v) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (!(v instanceof Long || v instanceof Boolean)) {
            throw new TemplateException("odd/even need an integer, not " + PyValues.typeName(v));
        }
        return v;
    }

    private static Object extreme(Object v, Args a, boolean max) {
        a.check(2, Set.of("case_sensitive", "attribute"));
        Object attribute = a.get(1, "attribute", null);
        Comparator<Object> c = pyOrder(attribute == null ? null : PyValues.str(attribute), a.bool(0, "case_sensitive", false));
        List<Object> items = PyValues.iterate(v);
        if (items.isEmpty()) {
            return new Undefined("No aggregated item, sequence was empty.");
        }
        Object best = items.get(0);
        for (Object o : items) {
            int cmp = c.compare(o, best);
            if (max ? cmp > 0 : cmp < 0) {
                best = o;
            }
        }
        return best;
    }

    /** select/reject (a test on each item) and selectattr/rejectattr (a test on an attribute of each item). */
    private static Object select(Object v, Args a, boolean reject, boolean onAttribute) {
        List<Object> positional = a.positional();
        int at = 0;
        String attribute = null;
        if (onAttribute) {
            if (positional.isEmpty()) {
                throw new TemplateException("selectattr/rejectattr need an attribute name");
            }
            attribute = PyValues.str(positional.get(at++));
        }
        String testName = at < positional.size() ? PyValues.str(positional.get(at++)) : null;
        Args testArgs = new Args(testName == null ? "truth" : testName, positional.subList(at, positional.size()), a.named());
        List<Object> out = new ArrayList<>();
        for (Object o : PyValues.iterate(v)) {
            Object subject = attribute == null ? o : attrPath(o, attribute, null);
            boolean pass = testName == null ? PyValues.truthy(subject) : test(testName, subject, testArgs);
            if (pass != reject) {
                out.add(o);
            }
        }
        return out;
    }
}
