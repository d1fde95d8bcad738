package kittyspark.runtime.tokenizer.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import kittyspark.runtime.tokenizer.template.Node.Expr;
import kittyspark.runtime.tokenizer.template.Node.Stmt;
import kittyspark.runtime.tokenizer.template.Token.Kind;

/**
 * Jinja2's grammar, rule for rule (its parser.py), for the statements chat templates use: if,
 * for (with else, a filter condition, loop controls), set (names, tuples, namespace attributes,
 * blocks), macro, call, filter, with, raw, and Hugging Face's {@code generation} tag. Unknown
 * tags, filters and tests fail here, when the template is loaded, as they do in Jinja2.
 */
final class Parser {
    private static final Set<String> COMPARE = Set.of("==", "!=", "<", "<=", ">", ">=");
    private static final Set<String> UNSUPPORTED_TAGS = Set.of("block", "extends", "include", "import", "from",
            "autoescape", "do", "trans", "pluralize", "endblock");

    private final List<Token> tokens;
    private int at;
    private int loopDepth;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Stmt> parse(String source) {
        Parser p = new Parser(Lexer.tokenize(source));
        List<Stmt> body = p.subparse(Set.of());
        if (!p.current().is(Kind.EOF)) {
            throw p.fail("unexpected '" + p.current().value() + "'");
        }
        return body;
    }

    // ---- statements ------------------------------------------------------------------------

    private List<Stmt> subparse(Set<String> endNames) {
        List<Stmt> body = new ArrayList<>();
        while (!current().is(Kind.EOF)) {
            Token t = current();
            switch (t.kind()) {
                case DATA -> {
                    body.add(new Node.Text((String) t.value(), t.line()));
                    advance();
                }
                case VARIABLE_BEGIN -> {
                    advance();
                    Expr e = parseTuple(false, true, Set.of(), false, false);
                    expect(Kind.VARIABLE_END);
                    body.add(new Node.Print(e, t.line()));
                }
                case BLOCK_BEGIN -> {
                    advance();
                    Token name = current();
                    if (name.is(Kind.NAME) && endNames.contains((String) name.value())) {
                        return body;
                    }
                    body.add(parseStatement());
                    expect(Kind.BLOCK_END);
                }
                default -> throw fail("unexpected " + t.describe());
            }
        }
        return body;
    }

    private Stmt parseStatement() {
        Token t = current();
        if (!t.is(Kind.NAME)) {
            throw fail("tag name expected");
        }
        String name = (String) t.value();
        switch (name) {
            case "if":
                return parseIf();
            case "for":
                return parseFor();
            case "set":
                return parseSet();
            case "macro":
                return parseMacro();
            case "call":
                return parseCallBlock();
            case "filter":
                return parseFilterBlock();
            case "with":
                return parseWith();
            case "print": {
                advance();
                List<Expr> parts = new ArrayList<>();
                while (!current().is(Kind.BLOCK_END)) {
                    if (!parts.isEmpty()) {
                        expectOperator(",");
                    }
                    parts.add(parseExpression(true));
                }
                return new Node.Body(parts.stream().<Stmt>map(e -> new Node.Print(e, e.line())).toList(), t.line());
            }
            case "break":
            case "continue":
                advance();
                if (loopDepth == 0) {
                    throw fail("'" + name + "' outside of a for loop");
                }
                return name.equals("break") ? new Node.Break(t.line()) : new Node.Continue(t.line());
            case "generation": {
                // Hugging Face's AssistantTracker: marks assistant text for masks, renders its body unchanged.
                advance();
                return new Node.Body(parseStatements(Set.of("endgeneration"), true), t.line());
            }
            default:
                if (UNSUPPORTED_TAGS.contains(name)) {
                    throw fail("the '" + name + "' tag is not supported in chat templates");
                }
                throw fail("encountered unknown tag '" + name + "'");
        }
    }

    /** A statement body: skips an optional colon, expects the block end, parses until one of {@code endNames}. */
    private List<Stmt> parseStatements(Set<String> endNames, boolean dropNeedle) {
        if (current().isOperator(":")) {
            advance();
        }
        expect(Kind.BLOCK_END);
        List<Stmt> body = subparse(endNames);
        if (current().is(Kind.EOF)) {
            throw fail("unexpected end of template, expected one of " + endNames);
        }
        if (dropNeedle) {
            advance();
        }
        return body;
    }

    private Stmt parseIf() {
        int line = advance().line();
        List<Expr> tests = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        List<Stmt> orElse = List.of();
        while (true) {
            tests.add(parseTuple(false, false, Set.of(), false, false));
            bodies.add(parseStatements(Set.of("elif", "else", "endif"), false));
            Token end = advance();
            if (end.isName("elif")) {
                continue;
            }
            if (end.isName("else")) {
                orElse = parseStatements(Set.of("endif"), true);
            }
            break;
        }
        return new Node.If(tests, bodies, orElse, line);
    }

    private Stmt parseFor() {
        int line = advance().line();
        Expr target = parseAssignTarget(true, false, Set.of("in"), false);
        expectName("in");
        Expr iterable = parseTuple(false, false, Set.of("recursive"), false, false);
        Expr filter = null;
        if (current().isName("if")) {
            advance();
            filter = parseExpression(true);
        }
        boolean recursive = false;
        if (current().isName("recursive")) {
            advance();
            recursive = true;
        }
        loopDepth++;
        List<Stmt> body = parseStatements(Set.of("endfor", "else"), false);
        loopDepth--;
        List<Stmt> orElse = List.of();
        if (advance().isName("else")) {
            orElse = parseStatements(Set.of("endfor"), true);
        }
        return new Node.For(target, iterable, filter, body, orElse, recursive, line);
    }

    private Stmt parseSet() {
        int line = advance().line();
        Expr target = parseAssignTarget(true, false, Set.of(), true);
        if (current().isOperator("=")) {
            advance();
            return new Node.Set(target, parseTuple(false, true, Set.of(), false, false), line);
        }
        Expr filter = parseFilter(null, false);
        List<Stmt> body = parseStatements(Set.of("endset"), true);
        return new Node.SetBlock(target, filter, body, line);
    }

    private Stmt parseMacro() {
        int line = advance().line();
        String name = (String) expect(Kind.NAME).value();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        parseSignature(params, defaults);
        int savedDepth = loopDepth;
        loopDepth = 0;
        List<Stmt> body = parseStatements(Set.of("endmacro"), true);
        loopDepth = savedDepth;
        return new Node.Macro(name, params, defaults, body, line);
    }

    private Stmt parseCallBlock() {
        int line = advance().line();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (current().isOperator("(")) {
            parseSignature(params, defaults);
        }
        Expr call = parseExpression(true);
        if (!(call instanceof Node.Call)) {
            throw fail("expected call");
        }
        List<Stmt> body = parseStatements(Set.of("endcall"), true);
        return new Node.CallBlock(params, defaults, call, body, line);
    }

    private Stmt parseFilterBlock() {
        int line = advance().line();
        Expr filter = parseFilter(null, true);
        return new Node.FilterBlock(filter, parseStatements(Set.of("endfilter"), true), line);
    }

    private Stmt parseWith() {
        int line = advance().line();
        List<Expr> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().is(Kind.BLOCK_END)) {
            if (!targets.isEmpty()) {
                expectOperator(",");
            }
            targets.add(parseAssignTarget(true, false, Set.of(), false));
            expectOperator("=");
            values.add(parseExpression(true));
        }
        return new Node.With(targets, values, parseStatements(Set.of("endwith"), true), line);
    }

    private void parseSignature(List<String> params, List<Expr> defaults) {
        expectOperator("(");
        while (!current().isOperator(")")) {
            if (!params.isEmpty()) {
                expectOperator(",");
            }
            params.add((String) expect(Kind.NAME).value());
            if (current().isOperator("=")) {
                advance();
                defaults.add(parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw fail("non-default argument follows default argument");
            }
        }
        expectOperator(")");
    }

    private Expr parseAssignTarget(boolean withTuple, boolean nameOnly, Set<String> extraEnd, boolean withNamespace) {
        Expr target;
        if (nameOnly) {
            Token t = expect(Kind.NAME);
            target = new Node.Name((String) t.value(), t.line());
        } else if (withTuple) {
            target = parseTuple(true, true, extraEnd, false, withNamespace);
        } else {
            target = parsePrimary(withNamespace);
        }
        if (!canAssign(target)) {
            throw fail("can't assign to " + target.getClass().getSimpleName().toLowerCase());
        }
        return target;
    }

    private static boolean canAssign(Expr e) {
        if (e instanceof Node.Name n) {
            return !Set.of("true", "false", "none", "True", "False", "None").contains(n.name());
        }
        if (e instanceof Node.NsRef) {
            return true;
        }
        return e instanceof Node.TupleLit t && t.items().stream().allMatch(Parser::canAssign);
    }

    // ---- expressions ------------------------------------------------------------------------

    private Expr parseExpression(boolean withCondExpr) {
        return withCondExpr ? parseCondExpr() : parseOr();
    }

    private Expr parseCondExpr() {
        int line = current().line();
        Expr expr1 = parseOr();
        while (current().isName("if")) {
            advance();
            Expr expr2 = parseOr();
            Expr expr3 = null;
            if (current().isName("else")) {
                advance();
                expr3 = parseCondExpr();
            }
            expr1 = new Node.CondExpr(expr2, expr1, expr3, line);
            line = current().line();
        }
        return expr1;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (current().isName("or")) {
            int line = advance().line();
            left = new Node.Or(left, parseAnd(), line);
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (current().isName("and")) {
            int line = advance().line();
            left = new Node.And(left, parseNot(), line);
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            int line = advance().line();
            return new Node.Not(parseNot(), line);
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr expr = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.is(Kind.OPERATOR) && COMPARE.contains((String) t.value())) {
                advance();
                ops.add((String) t.value());
                operands.add(parseMath1());
            } else if (t.isName("in")) {
                advance();
                ops.add("in");
                operands.add(parseMath1());
            } else if (t.isName("not") && peek(1).isName("in")) {
                advance();
                advance();
                ops.add("notin");
                operands.add(parseMath1());
            } else {
                break;
            }
        }
        return ops.isEmpty() ? expr : new Node.Compare(expr, ops, operands, line);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (current().isOperator("+") || current().isOperator("-")) {
            Token op = advance();
            left = new Node.Binary((String) op.value(), left, parseConcat(), op.line());
        }
        return left;
    }

    private Expr parseConcat() {
        int line = current().line();
        List<Expr> parts = new ArrayList<>();
        parts.add(parseMath2());
        while (current().isOperator("~")) {
            advance();
            parts.add(parseMath2());
        }
        return parts.size() == 1 ? parts.get(0) : new Node.Concat(parts, line);
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (current().isOperator("*") || current().isOperator("/") || current().isOperator("//")
                || current().isOperator("%")) {
            Token op = advance();
            left = new Node.Binary((String) op.value(), left, parsePow(), op.line());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (current().isOperator("**")) {
            Token op = advance();
            left = new Node.Binary("**", left, parseUnary(true), op.line());
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = current();
        Expr node;
        if (t.isOperator("-") || t.isOperator("+")) {
            advance();
            node = new Node.Unary((String) t.value(), parseUnary(false), t.line());
        } else {
            node = parsePrimary(false);
        }
        node = parsePostfix(node);
        if (withFilter) {
            node = parseFilterExpr(node);
        }
        return node;
    }

    private Expr parsePrimary(boolean withNamespace) {
        Token t = current();
        switch (t.kind()) {
            case NAME -> {
                advance();
                String v = (String) t.value();
                switch (v) {
                    case "true", "True" -> {
                        return new Node.Const(Boolean.TRUE, t.line());
                    }
                    case "false", "False" -> {
                        return new Node.Const(Boolean.FALSE, t.line());
                    }
                    case "none", "None" -> {
                        return new Node.Const(null, t.line());
                    }
                    default -> {
                        if (withNamespace && current().isOperator(".")) {
                            advance();
                            return new Node.NsRef(v, (String) expect(Kind.NAME).value(), t.line());
                        }
                        return new Node.Name(v, t.line());
                    }
                }
            }
            case STRING -> {
                StringBuilder b = new StringBuilder();
                while (current().is(Kind.STRING)) {
                    b.append((String) advance().value()); // adjacent literals join, as in Python
                }
                return new Node.Const(b.toString(), t.line());
            }
            case INTEGER, FLOAT -> {
                advance();
                return new Node.Const(t.value(), t.line());
            }
            case OPERATOR -> {
                if (t.isOperator("(")) {
                    advance();
                    Expr e = parseTuple(false, true, Set.of(), true, false);
                    expectOperator(")");
                    return e;
                }
                if (t.isOperator("[")) {
                    return parseList();
                }
                if (t.isOperator("{")) {
                    return parseDict();
                }
                throw fail("unexpected '" + t.value() + "'");
            }
            default -> throw fail("unexpected " + t.describe());
        }
    }

    /** Expressions separated by commas: a tuple if there is a comma (or "()" in parentheses), else the one expression. */
    private Expr parseTuple(boolean simplified, boolean withCondExpr, Set<String> extraEnd, boolean explicitParens,
                            boolean withNamespace) {
        int line = current().line();
        List<Expr> args = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!args.isEmpty()) {
                expectOperator(",");
            }
            if (isTupleEnd(extraEnd)) {
                break;
            }
            args.add(simplified ? parsePrimary(withNamespace) : parseExpression(withCondExpr));
            if (current().isOperator(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!args.isEmpty()) {
                return args.get(0);
            }
            if (!explicitParens) {
                throw fail("expected an expression, got " + current().describe());
            }
        }
        return new Node.TupleLit(args, line);
    }

    private boolean isTupleEnd(Set<String> extraEnd) {
        Token t = current();
        if (t.is(Kind.VARIABLE_END) || t.is(Kind.BLOCK_END) || t.isOperator(")")) {
            return true;
        }
        return t.is(Kind.NAME) && extraEnd.contains((String) t.value());
    }

    private Expr parseList() {
        int line = expectOperator("[").line();
        List<Expr> items = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!items.isEmpty()) {
                expectOperator(",");
            }
            if (current().isOperator("]")) {
                break;
            }
            items.add(parseExpression(true));
        }
        expectOperator("]");
        return new Node.ListLit(items, line);
    }

    private Expr parseDict() {
        int line = expectOperator("{").line();
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOperator("}")) {
            if (!keys.isEmpty()) {
                expectOperator(",");
            }
            if (current().isOperator("}")) {
                break;
            }
            keys.add(parseExpression(true));
            expectOperator(":");
            values.add(parseExpression(true));
        }
        expectOperator("}");
        return new Node.DictLit(keys, values, line);
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            if (current().isOperator(".") || current().isOperator("[")) {
                node = parseSubscript(node);
            } else if (current().isOperator("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            if (current().isOperator("|")) {
                node = parseFilter(node, false);
            } else if (current().isName("is")) {
                node = parseTest(node);
            } else if (current().isOperator("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = advance();
        if (t.isOperator(".")) {
            Token attr = advance();
            if (attr.is(Kind.NAME)) {
                return new Node.GetAttr(node, (String) attr.value(), t.line());
            }
            if (!attr.is(Kind.INTEGER)) {
                throw fail("expected name or number");
            }
            return new Node.GetItem(node, new Node.Const(attr.value(), attr.line()), t.line());
        }
        List<Expr> args = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!args.isEmpty()) {
                expectOperator(",");
            }
            args.add(parseSubscribed());
        }
        expectOperator("]");
        Expr key = args.size() == 1 ? args.get(0) : new Node.TupleLit(args, t.line());
        return new Node.GetItem(node, key, t.line());
    }

    private Expr parseSubscribed() {
        int line = current().line();
        Expr start = null;
        if (current().isOperator(":")) {
            advance();
        } else {
            Expr e = parseExpression(true);
            if (!current().isOperator(":")) {
                return e;
            }
            advance();
            start = e;
        }
        Expr stop = null;
        if (!current().isOperator(":") && !current().isOperator("]") && !current().isOperator(",")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (current().isOperator(":")) {
            advance();
            if (!current().isOperator("]") && !current().isOperator(",")) {
                step = parseExpression(true);
            }
        }
        return new Node.Slice(start, stop, step, line);
    }

    private record CallArgs(List<Expr> args, List<String> kwargNames, List<Expr> kwargValues) {
    }

    private CallArgs parseCallArgs() {
        expectOperator("(");
        List<Expr> args = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        boolean requireComma = false;
        while (!current().isOperator(")")) {
            if (requireComma) {
                expectOperator(",");
                if (current().isOperator(")")) {
                    break;
                }
            }
            if (current().isOperator("*") || current().isOperator("**")) {
                throw fail("*args and **kwargs in calls are not supported");
            }
            if (current().is(Kind.NAME) && peek(1).isOperator("=")) {
                names.add((String) advance().value());
                advance();
                values.add(parseExpression(true));
            } else {
                if (!names.isEmpty()) {
                    throw fail("invalid syntax for function call expression");
                }
                args.add(parseExpression(true));
            }
            requireComma = true;
        }
        expectOperator(")");
        return new CallArgs(args, names, values);
    }

    private Expr parseCall(Expr node) {
        int line = current().line();
        CallArgs a = parseCallArgs();
        return new Node.Call(node, a.args(), a.kwargNames(), a.kwargValues(), line);
    }

    private Expr parseFilter(Expr node, boolean startInline) {
        while (current().isOperator("|") || startInline) {
            if (!startInline) {
                advance();
            }
            Token t = expect(Kind.NAME);
            StringBuilder name = new StringBuilder((String) t.value());
            while (current().isOperator(".")) {
                advance();
                name.append('.').append((String) expect(Kind.NAME).value());
            }
            if (!Builtins.hasFilter(name.toString())) {
                throw fail("no filter named '" + name + "'");
            }
            CallArgs a = current().isOperator("(") ? parseCallArgs() : new CallArgs(List.of(), List.of(), List.of());
            node = new Node.Filter(node, name.toString(), a.args(), a.kwargNames(), a.kwargValues(), t.line());
            startInline = false;
        }
        return node;
    }

    private Expr parseTest(Expr node) {
        int line = advance().line();
        boolean negated = false;
        if (current().isName("not")) {
            advance();
            negated = true;
        }
        StringBuilder name = new StringBuilder((String) expect(Kind.NAME).value());
        while (current().isOperator(".")) {
            advance();
            name.append('.').append((String) expect(Kind.NAME).value());
        }
        if (!Builtins.hasTest(name.toString())) {
            throw fail("no test named '" + name + "'");
        }
        CallArgs a;
        Token t = current();
        if (t.isOperator("(")) {
            a = parseCallArgs();
        } else if ((t.is(Kind.NAME) || t.is(Kind.STRING) || t.is(Kind.INTEGER) || t.is(Kind.FLOAT) || t.isOperator("[")
                || t.isOperator("{")) && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) {
                throw fail("you cannot chain multiple tests with is");
            }
            a = new CallArgs(List.of(parsePostfix(parsePrimary(false))), List.of(), List.of());
        } else {
            a = new CallArgs(List.of(), List.of(), List.of());
        }
        Expr test = new Node.Test(node, name.toString(), a.args(), a.kwargNames(), a.kwargValues(), line);
        return negated ? new Node.Not(test, line) : test;
    }

    // ---- token stream ----------------------------------------------------------------------

    private Token current() {
        return tokens.get(at);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(at + ahead, tokens.size() - 1));
    }

    private Token advance() {
        Token t = tokens.get(at);
        if (at < tokens.size() - 1) {
            at++;
        }
        return t;
    }

    private Token expect(Kind kind) {
        if (!current().is(kind)) {
            throw fail("expected " + kind.name().toLowerCase().replace('_', ' ') + ", got " + current().describe());
        }
        return advance();
    }

    private Token expectOperator(String op) {
        if (!current().isOperator(op)) {
            throw fail("expected '" + op + "', got " + current().describe());
        }
        return advance();
    }

    private void expectName(String name) {
        if (!current().isName(name)) {
            throw fail("expected '" + name + "', got " + current().describe());
        }
        advance();
    }

    private TemplateException fail(String what) {
        return new TemplateException("template syntax error at line " + current().line() + ": " + what);
    }
}
