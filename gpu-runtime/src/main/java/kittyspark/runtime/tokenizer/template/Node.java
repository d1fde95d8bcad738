package kittyspark.runtime.tokenizer.template;

import java.util.List;

/** The syntax tree of a template: statements that write output and expressions that compute values. */
final class Node {
    private Node() {
    }

    /** A statement; {@code line} is where it starts in the template. */
    sealed interface Stmt permits Text, Print, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, With, Break, Continue,
            Body {
        int line();
    }

    record Text(String text, int line) implements Stmt {
    }

    record Print(Expr expr, int line) implements Stmt {
    }

    record If(List<Expr> tests, List<List<Stmt>> bodies, List<Stmt> orElse, int line) implements Stmt {
    }

    record For(Expr target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> orElse, boolean recursive, int line)
            implements Stmt {
    }

    /** {@code {% set target = value %}}; the target is a Name, a Tuple of names, or a namespace attribute. */
    record Set(Expr target, Expr value, int line) implements Stmt {
    }

    /** {@code {% set name %}...{% endset %}}, optionally through filters. */
    record SetBlock(Expr target, Expr filter, List<Stmt> body, int line) implements Stmt {
    }

    record Macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body, int line) implements Stmt {
    }

    /** {@code {% call(args) macro(...) %}body{% endcall %}}: the body is the macro's {@code caller()}. */
    record CallBlock(List<String> params, List<Expr> defaults, Expr call, List<Stmt> body, int line) implements Stmt {
    }

    record FilterBlock(Expr filter, List<Stmt> body, int line) implements Stmt {
    }

    record With(List<Expr> targets, List<Expr> values, List<Stmt> body, int line) implements Stmt {
    }

    record Break(int line) implements Stmt {
    }

    record Continue(int line) implements Stmt {
    }

    /** Statements run in the enclosing scope, e.g. the body of Hugging Face's {@code {% generation %}} tag. */
    record Body(List<Stmt> body, int line) implements Stmt {
    }

    /** An expression; {@code line} is where it starts. */
    sealed interface Expr permits Const, Name, NsRef, ListLit, TupleLit, DictLit, GetAttr, GetItem, Slice, Call, Filter,
            Test, Unary, Binary, Compare, And, Or, Not, CondExpr, Concat {
        int line();
    }

    record Const(Object value, int line) implements Expr {
    }

    record Name(String name, int line) implements Expr {
    }

    /** {@code ns.attr} as an assignment target. */
    record NsRef(String name, String attr, int line) implements Expr {
    }

    record ListLit(List<Expr> items, int line) implements Expr {
    }

    record TupleLit(List<Expr> items, int line) implements Expr {
    }

    record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr {
    }

    record GetAttr(Expr target, String attr, int line) implements Expr {
    }

    record GetItem(Expr target, Expr key, int line) implements Expr {
    }

    /** {@code start:stop:step} inside a subscript; parts may be null. */
    record Slice(Expr start, Expr stop, Expr step, int line) implements Expr {
    }

    record Call(Expr target, List<Expr> args, List<String> kwargNames, List<Expr> kwargValues, int line) implements Expr {
    }

    /** {@code value | name(args)}; value is null inside a filter block or a set block. */
    record Filter(Expr value, String name, List<Expr> args, List<String> kwargNames, List<Expr> kwargValues, int line)
            implements Expr {
    }

    record Test(Expr value, String name, List<Expr> args, List<String> kwargNames, List<Expr> kwargValues, int line)
            implements Expr {
    }

    /** "-" or "+". */
    record Unary(String op, Expr operand, int line) implements Expr {
    }

    /** "+", "-", "*", "/", "//", "%", "**". */
    record Binary(String op, Expr left, Expr right, int line) implements Expr {
    }

    /** A comparison chain: {@code a < b <= c}; ops are "==", "!=", "<", "<=", ">", ">=", "in", "notin". */
    record Compare(Expr first, List<String> ops, List<Expr> operands, int line) implements Expr {
    }

    record And(Expr left, Expr right, int line) implements Expr {
    }

    record Or(Expr left, Expr right, int line) implements Expr {
    }

    record Not(Expr operand, int line) implements Expr {
    }

    /** {@code then if test else orElse}; orElse null means undefined. */
    record CondExpr(Expr test, Expr then, Expr orElse, int line) implements Expr {
    }

    /** {@code a ~ b ~ c}. */
    record Concat(List<Expr> parts, int line) implements Expr {
    }
}
