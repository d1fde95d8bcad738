package kittyspark.runtime.tokenizer.template;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The arguments of one call, read the way a Python signature binds them: by position or by name. */
final class Args {
    private final String function;
    private final List<Object> positional;
    private final Map<String, Object> named;

    Args(String function, List<Object> positional, Map<String, Object> named) {
        this.function = function;
        this.positional = positional;
        this.named = named;
    }

    /** Parameter {@code index} (0-based, after the value a filter or method applies to), or by {@code name}, or the default. */
    Object get(int index, String name, Object fallback) {
        if (index < positional.size()) {
            if (named.containsKey(name)) {
                throw new TemplateException(function + "() got multiple values for argument '" + name + "'");
            }
            return positional.get(index);
        }
        return named.getOrDefault(name, fallback);
    }

    boolean has(int index, String name) {
        return index < positional.size() || named.containsKey(name);
    }

    String string(int index, String name, String fallback) {
        Object v = get(index, name, fallback);
        if (v != null && !(v instanceof String)) {
            throw new TemplateException(function + "() argument '" + name + "' must be str, not " + PyValues.typeName(v));
        }
        return (String) v;
    }

    long integer(int index, String name, long fallback) {
        Object v = get(index, name, fallback);
        if (!(v instanceof Long || v instanceof Boolean)) {
            throw new TemplateException(function + "() argument '" + name + "' must be int, not " + PyValues.typeName(v));
        }
        return PyValues.toLong(v);
    }

    boolean bool(int index, String name, boolean fallback) {
        return PyValues.truthy(get(index, name, fallback));
    }

    int size() {
        return positional.size();
    }

    List<Object> positional() {
        return positional;
    }

    Map<String, Object> named() {
        return named;
    }

    /** Fails on more positional arguments than {@code max}, or on a keyword outside {@code names}. */
    Args check(int max, Set<String> names) {
        if (positional.size() > max) {
            throw new TemplateException(function + "() takes at most " + max + " argument" + (max == 1 ? "" : "s") + " ("
                    + positional.size() + " given)");
        }
        for (String k : named.keySet()) {
            if (!names.contains(k)) {
                throw new TemplateException(function + "() got an unexpected keyword argument '" + k + "'");
            }
        }
        return this;
    }
}
