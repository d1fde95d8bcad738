package kittyspark.runtime.tokenizer.template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import kittyspark.runtime.tokenizer.template.Node.Expr;
import kittyspark.runtime.tokenizer.template.Node.Stmt;

/**
 * Runs a parsed template. Scopes follow Jinja2: a for loop's body gets a fresh scope for each
 * item (so {@code set} inside a loop is gone after it, and namespaces are how a loop reports out),
 * macros get their own, {@code if} shares its enclosing one. Values from the caller are data:
 * nothing here ever parses a value as template code.
 */
final class Interpreter {
    /** Stops runaway templates (a recursive macro, a huge range) instead of exhausting the executor. */
    private static final int MAX_OUTPUT_CHARS = 64 << 20;
    private static final int MAX_CALL_DEPTH = 200;

    private static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return PyValues.MISSING;
        }
    }

    private static final class BreakSignal extends RuntimeException {
        BreakSignal() {
            super(null, null, false, false);
        }
    }

    private static final class ContinueSignal extends RuntimeException {
        ContinueSignal() {
            super(null, null, false, false);
        }
    }

    private final StringBuilder out = new StringBuilder();
    private int depth;

    static String render(List<Stmt> body, Map<String, Object> globals) {
        Scope root = new Scope(null);
        root.vars.putAll(globals);
        Interpreter in = new Interpreter();
        in.exec(body, new Scope(root));
        return in.out.toString();
    }

    // ---- statements ------------------------------------------------------------------------

    private void exec(List<Stmt> body, Scope scope) {
        for (Stmt s : body) {
            exec(s, scope);
        }
    }

    private void exec(Stmt stmt, Scope scope) {
        try {
            execUnchecked(stmt, scope);
        } catch (TemplateException e) {
            throw e.getMessage() != null && e.getMessage().startsWith("line ") ? e
                    : new TemplateException("line " + stmt.line() + ": " + e.getMessage(), e);
        } catch (ArithmeticException e) {
            throw new TemplateException("line " + stmt.line() + ": integer overflow", e);
        }
    }

    private void execUnchecked(Stmt stmt, Scope scope) {
        if (stmt instanceof Node.Text t) {
            write(t.text());
        } else if (stmt instanceof Node.Print p) {
            write(PyValues.str(eval(p.expr(), scope)));
        } else if (stmt instanceof Node.If i) {
            for (int k = 0; k < i.tests().size(); k++) {
                if (PyValues.truthy(eval(i.tests().get(k), scope))) {
                    exec(i.bodies().get(k), scope);
                    return;
                }
            }
            exec(i.orElse(), scope);
        } else if (stmt instanceof Node.For f) {
            execFor(f, scope, eval(f.iterable(), scope), 0);
        } else if (stmt instanceof Node.Set s) {
            assign(s.target(), eval(s.value(), scope), scope);
        } else if (stmt instanceof Node.SetBlock s) {
            String text = capture(s.body(), new Scope(scope));
            assign(s.target(), s.filter() == null ? text : applyFilters(s.filter(), text, scope), scope);
        } else if (stmt instanceof Node.Macro m) {
            scope.vars.put(m.name(), macro(m.name(), m.params(), m.defaults(), m.body(), scope));
        } else if (stmt instanceof Node.CallBlock c) {
            PyCallable caller = macro("caller", c.params(), c.defaults(), c.body(), scope);
            Node.Call call = (Node.Call) c.call();
            Object target = eval(call.target(), scope);
            Map<String, Object> kwargs = kwargs(call.kwargNames(), call.kwargValues(), scope);
            kwargs.put("caller", caller);
            write(PyValues.str(invoke(target, evalAll(call.args(), scope), kwargs)));
        } else if (stmt instanceof Node.FilterBlock f) {
            write(PyValues.str(applyFilters(f.filter(), capture(f.body(), new Scope(scope)), scope)));
        } else if (stmt instanceof Node.With w) {
            Scope inner = new Scope(scope);
            for (int k = 0; k < w.targets().size(); k++) {
                assign(w.targets().get(k), eval(w.values().get(k), scope), inner);
            }
            exec(w.body(), inner);
        } else if (stmt instanceof Node.Break) {
            throw new BreakSignal();
        } else if (stmt instanceof Node.Continue) {
            throw new ContinueSignal();
        } else if (stmt instanceof Node.Body b) {
            exec(b.body(), scope);
        } else {
            throw new IllegalStateException("unknown statement " + stmt);
        }
    }

    private void execFor(Node.For f, Scope scope, Object iterable, int loopDepth) {
        List<Object> items = new ArrayList<>(PyValues.iterate(iterable));
        if (f.filter() != null) {
            // A filtered loop counts only the items that pass, as Jinja2 does.
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope probe = new Scope(scope);
                assign(f.target(), item, probe);
                if (PyValues.truthy(eval(f.filter(), probe))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            exec(f.orElse(), scope);
            return;
        }
        PyCallable recurse = f.recursive() ? (args, kwargs) -> {
            String saved = takeOutput();
            execFor(f, scope, args.isEmpty() ? null : args.get(0), loopDepth + 1);
            return restoreOutput(saved);
        } : null;
        LoopContext loop = new LoopContext(items, loopDepth, recurse);
        for (int k = 0; k < items.size(); k++) {
            loop.index0 = k;
            Scope iteration = new Scope(scope);
            iteration.vars.put("loop", loop);
            assign(f.target(), items.get(k), iteration);
            try {
                exec(f.body(), iteration);
            } catch (BreakSignal b) {
                break;
            } catch (ContinueSignal c) {
                // next item
            }
        }
    }

    private String takeOutput() {
        String saved = out.toString();
        out.setLength(0);
        return saved;
    }

    private String restoreOutput(String saved) {
        String produced = out.toString();
        out.setLength(0);
        out.append(saved);
        return produced;
    }

    private String capture(List<Stmt> body, Scope scope) {
        String saved = takeOutput();
        exec(body, scope);
        return restoreOutput(saved);
    }

    private void assign(Expr target, Object value, Scope scope) {
        if (target instanceof Node.Name n) {
            scope.vars.put(n.name(), value);
        } else if (target instanceof Node.NsRef r) {
            Object ns = scope.lookup(r.name());
            if (!(ns instanceof Namespace namespace)) {
                throw new TemplateException("cannot assign attribute on non-namespace object");
            }
            namespace.attrs.put(r.attr(), value);
        } else if (target instanceof Node.TupleLit t) {
            List<Object> values = PyValues.iterate(value);
            if (values.size() != t.items().size()) {
                throw new TemplateException((values.size() > t.items().size() ? "too many" : "not enough")
                        + " values to unpack (expected " + t.items().size() + ", got " + values.size() + ")");
            }
            for (int k = 0; k < values.size(); k++) {
                assign(t.items().get(k), values.get(k), scope);
            }
        } else {
            throw new TemplateException("cannot assign to " + target);
        }
    }

    private PyCallable macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body, Scope definedIn) {
        return new PyCallable() {
            @Override
            public Object call(List<Object> args, Map<String, Object> kwargs) {
                if (args.size() > params.size()) {
                    throw new TemplateException("macro '" + name + "' takes not more than " + params.size() + " argument(s)");
                }
                Scope local = new Scope(definedIn);
                int firstDefault = params.size() - defaults.size();
                for (int k = 0; k < params.size(); k++) {
                    String p = params.get(k);
                    Object v;
                    if (k < args.size()) {
                        v = args.get(k);
                    } else if (kwargs.containsKey(p)) {
                        v = kwargs.get(p);
                    } else if (k >= firstDefault) {
                        v = eval(defaults.get(k - firstDefault), local);
                    } else {
                        v = Undefined.name(p);
                    }
                    local.vars.put(p, v);
                }
                Map<String, Object> extra = new LinkedHashMap<>(kwargs);
                params.forEach(extra::remove);
                if (extra.containsKey("caller")) {
                    local.vars.put("caller", extra.remove("caller"));
                }
                local.vars.put("kwargs", new LinkedHashMap<Object, Object>(extra));
                local.vars.put("varargs", new TupleValue(List.of()));
                if (++depth > MAX_CALL_DEPTH) {
                    throw new TemplateException("macro calls nested more than " + MAX_CALL_DEPTH + " deep");
                }
                try {
                    return capture(body, local);
                } finally {
                    depth--;
                }
            }

            @Override
            public String describe() {
                return "<Macro '" + name + "'>";
            }
        };
    }

    private void write(String s) {
        if (out.length() + s.length() > MAX_OUTPUT_CHARS) {
            throw new TemplateException("the template writes more than " + MAX_OUTPUT_CHARS + " characters");
        }
        out.append(s);
    }

    // ---- expressions -----------------------------------------------------------------------

    private List<Object> evalAll(List<Expr> exprs, Scope scope) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Expr e : exprs) {
            out.add(eval(e, scope));
        }
        return out;
    }

    private Map<String, Object> kwargs(List<String> names, List<Expr> values, Scope scope) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int k = 0; k < names.size(); k++) {
            out.put(names.get(k), eval(values.get(k), scope));
        }
        return out;
    }

    private Object eval(Expr e, Scope scope) {
        if (e instanceof Node.Const c) {
            return c.value();
        }
        if (e instanceof Node.Name n) {
            Object v = scope.lookup(n.name());
            return v == PyValues.MISSING ? Undefined.name(n.name()) : v;
        }
        if (e instanceof Node.GetAttr g) {
            return Builtins.getAttr(eval(g.target(), scope), g.attr());
        }
        if (e instanceof Node.GetItem g) {
            Object target = eval(g.target(), scope);
            if (g.key() instanceof Node.Slice s) {
                return PyValues.slice(target, s.start() == null ? null : eval(s.start(), scope),
                        s.stop() == null ? null : eval(s.stop(), scope), s.step() == null ? null : eval(s.step(), scope));
            }
            return Builtins.getItem(target, eval(g.key(), scope));
        }
        if (e instanceof Node.ListLit l) {
            return evalAll(l.items(), scope);
        }
        if (e instanceof Node.TupleLit t) {
            return new TupleValue(evalAll(t.items(), scope));
        }
        if (e instanceof Node.DictLit d) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (int k = 0; k < d.keys().size(); k++) {
                Object key = eval(d.keys().get(k), scope);
                if (key instanceof List || key instanceof Map || key instanceof Undefined) {
                    throw new TemplateException("unhashable type: '" + PyValues.typeName(key) + "'");
                }
                Object existing = PyValues.findKey(m, key);
                m.put(existing == PyValues.MISSING ? key : existing, eval(d.values().get(k), scope));
            }
            return m;
        }
        if (e instanceof Node.Call c) {
            return invoke(eval(c.target(), scope), evalAll(c.args(), scope), kwargs(c.kwargNames(), c.kwargValues(), scope));
        }
        if (e instanceof Node.Filter f) {
            return Builtins.filter(f.name(), eval(f.value(), scope),
                    new Args(f.name(), evalAll(f.args(), scope), kwargs(f.kwargNames(), f.kwargValues(), scope)));
        }
        if (e instanceof Node.Test t) {
            return Builtins.test(t.name(), eval(t.value(), scope),
                    new Args(t.name(), evalAll(t.args(), scope), kwargs(t.kwargNames(), t.kwargValues(), scope)));
        }
        if (e instanceof Node.Unary u) {
            Object v = eval(u.operand(), scope);
            if (u.op().equals("-")) {
                return PyValues.negate(v);
            }
            if (v instanceof Undefined und) {
                throw und.fail();
            }
            if (!PyValues.isNumber(v)) {
                throw new TemplateException("bad operand type for unary +: '" + PyValues.typeName(v) + "'");
            }
            return v instanceof Boolean ? PyValues.toLong(v) : v;
        }
        if (e instanceof Node.Binary b) {
            return PyValues.arithmetic(b.op(), eval(b.left(), scope), eval(b.right(), scope));
        }
        if (e instanceof Node.Concat c) {
            StringBuilder b = new StringBuilder();
            for (Expr part : c.parts()) {
                b.append(PyValues.str(eval(part, scope)));
            }
            return b.toString();
        }
        if (e instanceof Node.Compare c) {
            Object left = eval(c.first(), scope);
            for (int k = 0; k < c.ops().size(); k++) {
                Object right = eval(c.operands().get(k), scope);
                if (!compare(c.ops().get(k), left, right)) {
                    return false;
                }
                left = right;
            }
            return true;
        }
        if (e instanceof Node.And a) {
            Object left = eval(a.left(), scope);
            return PyValues.truthy(left) ? eval(a.right(), scope) : left;
        }
        if (e instanceof Node.Or o) {
            Object left = eval(o.left(), scope);
            return PyValues.truthy(left) ? left : eval(o.right(), scope);
        }
        if (e instanceof Node.Not n) {
            return !PyValues.truthy(eval(n.operand(), scope));
        }
        if (e instanceof Node.CondExpr c) {
            if (PyValues.truthy(eval(c.test(), scope))) {
                return eval(c.then(), scope);
            }
            return c.orElse() == null ? new Undefined("the inline if-expression on line " + c.line()
                    + " evaluated to false and no else section was defined.") : eval(c.orElse(), scope);
        }
        if (e instanceof Node.NsRef r) {
            throw new TemplateException("a namespace attribute '" + r.name() + "." + r.attr() + "' can only be assigned");
        }
        throw new TemplateException("cannot evaluate " + e);
    }

    private static boolean compare(String op, Object a, Object b) {
        return switch (op) {
            case "==" -> PyValues.eq(a, b);
            case "!=" -> !PyValues.eq(a, b);
            case "<" -> PyValues.compare(a, b, op) < 0;
            case "<=" -> PyValues.compare(a, b, op) <= 0;
            case ">" -> PyValues.compare(a, b, op) > 0;
            case ">=" -> PyValues.compare(a, b, op) >= 0;
            case "in" -> PyValues.contains(b, a);
            case "notin" -> !PyValues.contains(b, a);
            default -> throw new IllegalStateException(op);
        };
    }

    private Object invoke(Object target, List<Object> args, Map<String, Object> kwargs) {
        if (target instanceof Undefined u) {
            throw u.fail();
        }
        if (!(target instanceof PyCallable c)) {
            throw new TemplateException("'" + PyValues.typeName(target) + "' object is not callable");
        }
        return c.call(args, kwargs);
    }

    /** Applies a filter chain whose innermost value is null (a filter block or set block) to {@code value}. */
    private Object applyFilters(Expr filter, Object value, Scope scope) {
        Node.Filter f = (Node.Filter) filter;
        Object inner = f.value() == null ? value : applyFilters(f.value(), value, scope);
        return Builtins.filter(f.name(), inner,
                new Args(f.name(), evalAll(f.args(), scope), kwargs(f.kwargNames(), f.kwargValues(), scope)));
    }
}
