package kittyspark.runtime.tokenizer.template;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import kittyspark.runtime.tokenizer.template.Node.Stmt;

/**
 * A Jinja2 template, parsed once and rendered any number of times (immutable, thread-safe), with
 * the environment Hugging Face's {@code apply_chat_template} uses: {@code trim_blocks},
 * {@code lstrip_blocks}, loop controls, sandboxed immutable values. The subset of Jinja2 is the one
 * chat templates use (see {@link Parser}); what is outside it fails at {@link #parse}.
 */
public final class JinjaTemplate {
    private final List<Stmt> body;
    private final Map<String, Object> globals;

    private JinjaTemplate(List<Stmt> body, Map<String, Object> globals) {
        this.body = body;
        this.globals = globals;
    }

    /**
     * Parses template source.
     *
     * @throws TemplateException naming the line, for a syntax error or an unknown tag, filter or test
     */
    public static JinjaTemplate parse(String source) {
        return new JinjaTemplate(Parser.parse(source), Builtins.globals());
    }

    /** The same template with more global functions (e.g. {@code raise_exception}). */
    JinjaTemplate withGlobals(Map<String, Object> more) {
        Map<String, Object> g = new HashMap<>(globals);
        g.putAll(more);
        return new JinjaTemplate(body, g);
    }

    /**
     * Renders with {@code variables} (Strings, numbers, Booleans, nulls, Lists and Maps of them).
     *
     * @throws TemplateException naming the line, when rendering fails
     */
    public String render(Map<String, ?> variables) {
        Map<String, Object> scope = new HashMap<>(globals);
        variables.forEach((k, v) -> scope.put(k, PyValues.fromJava(v)));
        return Interpreter.render(body, scope);
    }
}
