package kittyspark.runtime.tokenizer.template;

import java.util.List;
import java.util.Map;

/** Something a template can call: a global function, a macro, a bound method, {@code loop.cycle}. */
interface PyCallable {
    Object call(List<Object> args, Map<String, Object> kwargs);

    /** How Python's str() would show it. */
    default String describe() {
        return "<function>";
    }
}
