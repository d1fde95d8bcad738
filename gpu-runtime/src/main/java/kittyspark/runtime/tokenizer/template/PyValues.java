package kittyspark.runtime.tokenizer.template;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python's semantics for template values. Values are: String (str), Long (int), Double (float),
 * Boolean (bool), null (None), {@link Undefined}, List (list; {@link TupleValue} for tuple), Map
 * (dict, in insertion order), {@link Namespace}, {@link PyCallable}, and the loop object.
 */
final class PyValues {
    private PyValues() {
    }

    /** A Java value from the caller (Integer, Float, arrays of nothing else, nested lists and maps) as a template value. */
    static Object fromJava(Object v) {
        if (v == null || v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean
                || v instanceof Undefined || v instanceof Namespace || v instanceof PyCallable) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float) {
            return ((Float) v).doubleValue();
        }
        if (v instanceof CharSequence cs) {
            return cs.toString();
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(fromJava(k), fromJava(x)));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            it.forEach(x -> out.add(fromJava(x)));
            return out;
        }
        throw new IllegalArgumentException("a " + v.getClass().getName() + " cannot be a template value");
    }

    // ---- type names, truth, length, iteration ----------------------------------------------

    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Double) {
            return "float";
        }
        if (v instanceof TupleValue) {
            return "tuple";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "dict";
        }
        if (v instanceof Namespace) {
            return "Namespace";
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof LoopContext) {
            return "LoopContext";
        }
        return "function";
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0.0;
        }
        if (v instanceof List<?> l) {
            return !l.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    static int length(Object v) {
        if (v instanceof String s) {
            return PyStrings.length(s);
        }
        if (v instanceof List<?> l) {
            return l.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        throw new TemplateException("object of type '" + typeName(v) + "' has no len()");
    }

    /** Python iteration: a string gives its characters, a dict its keys, Undefined nothing. */
    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) {
            return Collections.unmodifiableList(l);
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>();
            s.codePoints().forEach(cp -> out.add(Character.toString(cp)));
            return out;
        }
        if (v instanceof Undefined) {
            return List.of();
        }
        throw new TemplateException("'" + typeName(v) + "' object is not iterable");
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    // ---- str() and repr() ------------------------------------------------------------------

    /** Python's str(): what {{ value }} prints. */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    static String repr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof String s) {
            return PyStrings.repr(s);
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof Long l) {
            return l.toString();
        }
        if (v instanceof Double d) {
            return floatRepr(d);
        }
        if (v instanceof TupleValue t) {
            StringBuilder b = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) {
                b.append(i > 0 ? ", " : "").append(repr(t.get(i)));
            }
            return b.append(t.size() == 1 ? ",)" : ")").toString();
        }
        if (v instanceof List<?> l) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                b.append(i > 0 ? ", " : "").append(repr(l.get(i)));
            }
            return b.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return b.append('}').toString();
        }
        if (v instanceof Namespace ns) {
            StringBuilder b = new StringBuilder("<Namespace {");
            boolean first = true;
            for (Map.Entry<String, Object> e : ns.attrs.entrySet()) {
                b.append(first ? "" : ", ").append(PyStrings.repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return b.append("}>").toString();
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof PyCallable c) {
            return c.describe();
        }
        return String.valueOf(v);
    }

    /** Python's repr of a float: the shortest digits that read back the same, scientific below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = null;
        for (int p = 1; p <= 17; p++) {
            BigDecimal candidate = new BigDecimal(d).round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (candidate.doubleValue() == d) {
                shortest = candidate;
                break;
            }
        }
        BigDecimal exact = Objects.requireNonNull(shortest).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale(); // the power of ten of the first digit
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = exact.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    // ---- equality and ordering -------------------------------------------------------------

    static boolean eq(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a == null || b == null) {
            return a == b;
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) == toDouble(b);
            }
            return toLong(a) == toLong(b);
        }
        if (a instanceof String || b instanceof String) {
            return a.equals(b);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if ((a instanceof TupleValue) != (b instanceof TupleValue) || la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Object key = findKey(mb, e.getKey());
                if (key == MISSING || !eq(e.getValue(), mb.get(key))) {
                    return false;
                }
            }
            return true;
        }
        return a == b;
    }

    /** Python's ordering: numbers with numbers, strings by code point, lists element by element. */
    static int compare(Object a, Object b, String op) {
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        if (b instanceof Undefined u) {
            throw u.fail();
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return Double.compare(toDouble(a), toDouble(b));
            }
            return Long.compare(toLong(a), toLong(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return compareCodePoints(sa, sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return compare(la.get(i), lb.get(i), op);
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw new TemplateException("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    /** Python's {@code needle in haystack}. */
    static boolean contains(Object haystack, Object needle) {
        if (haystack instanceof String s) {
            if (!(needle instanceof String n)) {
                throw new TemplateException("'in <string>' requires string as left operand, not " + typeName(needle));
            }
            return s.contains(n);
        }
        if (haystack instanceof Map<?, ?> m) {
            return findKey(m, needle) != MISSING;
        }
        if (haystack instanceof List<?> l) {
            for (Object o : l) {
                if (eq(o, needle)) {
                    return true;
                }
            }
            return false;
        }
        if (haystack instanceof Undefined) {
            return false;
        }
        throw new TemplateException("argument of type '" + typeName(haystack) + "' is not iterable");
    }

    static final Object MISSING = new Object();

    /** The key of {@code m} equal to {@code key} in Python's sense (1 and 1.0 and True are one key), or MISSING. */
    static Object findKey(Map<?, ?> m, Object key) {
        if (m.containsKey(key)) {
            return key;
        }
        if (isNumber(key)) {
            for (Object k : m.keySet()) {
                if (isNumber(k) && eq(k, key)) {
                    return k;
                }
            }
        }
        return MISSING;
    }

    // ---- numbers ---------------------------------------------------------------------------

    static long toLong(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) v).longValue();
    }

    static double toDouble(Object v) {
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        return ((Number) v).doubleValue();
    }

    static Object arithmetic(String op, Object a, Object b) {
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        if (b instanceof Undefined u) {
            throw u.fail();
        }
        if (isNumber(a) && isNumber(b)) {
            boolean floats = a instanceof Double || b instanceof Double;
            switch (op) {
                case "+":
                    return floats ? (Object) (toDouble(a) + toDouble(b)) : (Object) Math.addExact(toLong(a), toLong(b));
                case "-":
                    return floats ? (Object) (toDouble(a) - toDouble(b)) : (Object) Math.subtractExact(toLong(a), toLong(b));
                case "*":
                    return floats ? (Object) (toDouble(a) * toDouble(b)) : (Object) Math.multiplyExact(toLong(a), toLong(b));
                case "/":
                    if (toDouble(b) == 0) {
                        throw new TemplateException("division by zero");
                    }
                    return toDouble(a) / toDouble(b);
                case "//":
                    if (toDouble(b) == 0) {
                        throw new TemplateException("integer division or modulo by zero");
                    }
                    return floats ? (Object) Math.floor(toDouble(a) / toDouble(b)) : (Object) Math.floorDiv(toLong(a), toLong(b));
                case "%":
                    if (toDouble(b) == 0) {
                        throw new TemplateException("integer division or modulo by zero");
                    }
                    if (floats) {
                        double x = toDouble(a);
                        double y = toDouble(b);
                        return x - y * Math.floor(x / y);
                    }
                    return Math.floorMod(toLong(a), toLong(b));
                case "**":
                    if (!floats && toLong(b) >= 0) {
                        long r = 1;
                        for (long i = 0; i < toLong(b); i++) {
                            r = Math.multiplyExact(r, toLong(a));
                        }
                        return r;
                    }
                    return Math.pow(toDouble(a), toDouble(b));
                default:
                    throw new IllegalArgumentException(op);
            }
        }
        if (op.equals("+")) {
            if (a instanceof String sa && b instanceof String sb) {
                return sa + sb;
            }
            if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof TupleValue) == (b instanceof TupleValue)) {
                List<Object> out = new ArrayList<>(la);
                out.addAll(lb);
                return a instanceof TupleValue ? new TupleValue(out) : out;
            }
            if (a instanceof String) {
                throw new TemplateException("can only concatenate str (not \"" + typeName(b) + "\") to str");
            }
        }
        if (op.equals("*")) {
            if ((a instanceof String || a instanceof List) && (b instanceof Long || b instanceof Boolean)) {
                return repeat(a, toLong(b));
            }
            if ((b instanceof String || b instanceof List) && (a instanceof Long || a instanceof Boolean)) {
                return repeat(b, toLong(a));
            }
        }
        if (op.equals("%") && a instanceof String format) {
            return PyFormat.percent(format, b);
        }
        throw new TemplateException("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    private static Object repeat(Object seq, long times) {
        if (seq instanceof String s) {
            return times <= 0 ? "" : s.repeat((int) times);
        }
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < times; i++) {
            out.addAll((List<?>) seq);
        }
        return seq instanceof TupleValue ? new TupleValue(out) : out;
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (v instanceof Double d) {
            return -d;
        }
        if (isNumber(v)) {
            return Math.negateExact(toLong(v));
        }
        throw new TemplateException("bad operand type for unary -: '" + typeName(v) + "'");
    }

    // ---- indexing --------------------------------------------------------------------------

    /** {@code value[key]} with Python's negative indices; a missing key or index gives Undefined. */
    static Object getItem(Object v, Object key) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (v instanceof Map<?, ?> m) {
            Object k = findKey(m, key);
            return k == MISSING ? Undefined.item(v, key) : m.get(k);
        }
        if (v instanceof List<?> l && (key instanceof Long || key instanceof Boolean)) {
            long i = toLong(key);
            if (i < 0) {
                i += l.size();
            }
            return i >= 0 && i < l.size() ? l.get((int) i) : Undefined.item(v, key);
        }
        if (v instanceof String s && (key instanceof Long || key instanceof Boolean)) {
            int[] cps = PyStrings.codePoints(s);
            long i = toLong(key);
            if (i < 0) {
                i += cps.length;
            }
            return i >= 0 && i < cps.length ? Character.toString(cps[(int) i]) : Undefined.item(v, key);
        }
        return Undefined.item(v, key);
    }

    /** {@code value[start:stop:step]} on a string, list or tuple, with Python's clamping rules. */
    static Object slice(Object v, Object start, Object stop, Object step) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        long st = step == null ? 1 : toIndex(step);
        if (st == 0) {
            throw new TemplateException("slice step cannot be zero");
        }
        int n;
        int[] cps = null;
        if (v instanceof String s) {
            cps = PyStrings.codePoints(s);
            n = cps.length;
        } else if (v instanceof List<?> l) {
            n = l.size();
        } else {
            throw new TemplateException("'" + typeName(v) + "' object is not subscriptable");
        }
        long lo;
        long hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(toIndex(start), n, 0, n);
            hi = stop == null ? n : clamp(toIndex(stop), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(toIndex(start), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(toIndex(stop), n, -1, n - 1);
        }
        List<Integer> idx = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            idx.add((int) i);
        }
        if (cps != null) {
            StringBuilder b = new StringBuilder();
            for (int i : idx) {
                b.appendCodePoint(cps[i]);
            }
            return b.toString();
        }
        List<?> l = (List<?>) v;
        List<Object> out = new ArrayList<>();
        for (int i : idx) {
            out.add(l.get(i));
        }
        return v instanceof TupleValue ? new TupleValue(out) : out;
    }

    private static long toIndex(Object o) {
        if (o instanceof Long || o instanceof Boolean) {
            return toLong(o);
        }
        throw new TemplateException("slice indices must be integers or None");
    }

    private static long clamp(long i, int n, long min, long max) {
        if (i < 0) {
            i += n;
        }
        return Math.max(min, Math.min(max, i));
    }

    static Iterator<Object> iterator(Object v) {
        return iterate(v).iterator();
    }
}
