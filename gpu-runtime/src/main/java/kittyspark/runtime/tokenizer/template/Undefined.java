package kittyspark.runtime.tokenizer.template;

/**
 * Jinja2's default Undefined: a missing variable, attribute or item. It prints as nothing, is
 * false, iterates as empty and has length 0; any other use (an attribute of it, arithmetic, a
 * call) fails with the message Jinja2 would give.
 */
final class Undefined {
    private final String hint;

    Undefined(String hint) {
        this.hint = hint;
    }

    static Undefined name(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined attribute(Object owner, String attr) {
        return new Undefined("'" + PyValues.typeName(owner) + " object' has no attribute '" + attr + "'");
    }

    static Undefined item(Object owner, Object key) {
        String k = key instanceof String s ? PyStrings.repr(s) : PyValues.str(key);
        if (owner instanceof java.util.List) {
            return new Undefined(PyValues.typeName(owner) + " object has no element " + k);
        }
        return new Undefined("'" + PyValues.typeName(owner) + " object' has no attribute " + k);
    }

    /** The error for using this value where a real one is needed. */
    TemplateException fail() {
        return new TemplateException(hint);
    }

    @Override
    public String toString() {
        return "";
    }
}
