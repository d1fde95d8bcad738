package kittyspark.runtime.tokenizer.template;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import kittyspark.runtime.tokenizer.template.Token.Kind;

/**
 * Splits template source into tokens the way Jinja2's lexer does with the settings Hugging Face
 * uses for chat templates: {@code trim_blocks} (the first newline after a block or comment tag
 * is dropped), {@code lstrip_blocks} (spaces and tabs from the start of a line up to a block or
 * comment tag are dropped), {@code keep_trailing_newline=False}, and the {@code -}/{@code +}
 * whitespace controls. Newlines of the source (CRLF, CR) become LF, as in Jinja2.
 */
final class Lexer {
    private static final String[] OPERATORS = {"//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    /** Whether the text consumed last ended with a newline (Jinja2's line_starting), for lstrip_blocks. */
    private boolean lineStarting = true;

    private Lexer(String source) {
        this.src = normalizeNewlines(source);
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.run();
        return lexer.out;
    }

    /** CRLF and CR become LF; one trailing newline is dropped (keep_trailing_newline is off). */
    static String normalizeNewlines(String s) {
        String lf = s.replace("\r\n", "\n").replace('\r', '\n');
        return lf.endsWith("\n") ? lf.substring(0, lf.length() - 1) : lf;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTagStart(pos);
            if (tag < 0) {
                emitData(src.substring(pos));
                pos = src.length();
                break;
            }
            char kind = src.charAt(tag + 1);
            int after = tag + 2;
            char sign = after < src.length() && (src.charAt(after) == '-' || src.charAt(after) == '+') ? src.charAt(after) : 0;
            String text = src.substring(pos, tag);
            boolean raw = kind == '%' && isRawBegin(tag);
            text = applyLeftStrip(text, sign, kind != '{');
            emitData(text);
            pos = after + (sign != 0 ? 1 : 0);
            if (raw) {
                lexRaw();
            } else if (kind == '#') {
                lexComment();
            } else {
                lexTag(kind == '{' ? Kind.VARIABLE_BEGIN : Kind.BLOCK_BEGIN);
            }
        }
        out.add(new Token(Kind.EOF, "", line));
    }

    /** The earliest "{{", "{%" or "{#" at or after {@code from}, or -1. */
    private int nextTagStart(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    /** The data before a tag: "-" strips all whitespace; otherwise lstrip_blocks for block and comment tags. */
    private String applyLeftStrip(String text, char sign, boolean blockOrComment) {
        if (sign == '-') {
            String stripped = PyStrings.rstrip(text, null);
            line += count(text.substring(stripped.length()), '\n');
            return stripped;
        }
        if (sign != '+' && blockOrComment) {
            int lineStart = text.lastIndexOf('\n') + 1;
            if ((lineStart > 0 || lineStarting) && lineStart < text.length() && PyStrings.isAllSpace(text, lineStart)) {
                return text.substring(0, lineStart);
            }
        }
        return text;
    }

    private void emitData(String text) {
        if (!text.isEmpty()) {
            out.add(new Token(Kind.DATA, text, line));
            line += count(text, '\n');
        }
    }

    /** "{% raw %}" (any "-"/"+" and spaces) starting at {@code tag}. */
    private boolean isRawBegin(int tag) {
        int i = tag + 2;
        if (i < src.length() && (src.charAt(i) == '-' || src.charAt(i) == '+')) {
            i++;
        }
        i = skipSpace(i);
        if (!src.startsWith("raw", i)) {
            return false;
        }
        i = skipSpace(i + 3);
        return src.startsWith("%}", i) || src.startsWith("-%}", i);
    }

    private void lexRaw() {
        int i = skipSpace(pos);
        i = skipSpace(i + 3); // "raw"
        if (src.startsWith("-%}", i)) {
            i = skipSpace(i + 3);
        } else {
            i += 2; // a raw tag's own end keeps the newline after it, as in Jinja2
        }
        countLines(pos, i);
        // Find "{%" [-+] space* "endraw" space* ("+%}" | "-%}" space* | "%}" "\n"?).
        for (int j = src.indexOf("{%", i); j >= 0; j = src.indexOf("{%", j + 1)) {
            int k = j + 2;
            char sign = k < src.length() && (src.charAt(k) == '-' || src.charAt(k) == '+') ? src.charAt(k) : 0;
            if (sign != 0) {
                k++;
            }
            k = skipSpace(k);
            if (!src.startsWith("endraw", k)) {
                continue;
            }
            k = skipSpace(k + 6);
            int end = closeBlock(k);
            if (end < 0) {
                continue;
            }
            lineStarting = i > 0 && src.charAt(i - 1) == '\n';
            emitData(applyLeftStrip(src.substring(i, j), sign, true));
            countLines(j, end);
            lineStarting = src.charAt(end - 1) == '\n';
            pos = end;
            return;
        }
        throw new TemplateException("line " + line + ": missing end of raw directive");
    }

    private void lexComment() {
        for (int j = src.indexOf("#}", pos); j >= 0; j = src.indexOf("#}", j + 1)) {
            int end;
            if (j > pos && src.charAt(j - 1) == '+') {
                end = j + 2;
            } else if (j > pos && src.charAt(j - 1) == '-') {
                end = skipSpace(j + 2);
            } else {
                end = j + 2 < src.length() && src.charAt(j + 2) == '\n' ? j + 3 : j + 2;
            }
            countLines(pos, end);
            lineStarting = src.charAt(end - 1) == '\n';
            pos = end;
            return;
        }
        throw new TemplateException("line " + line + ": missing end of comment tag");
    }

    /** The end of a block-end at {@code k} ("+%}", "-%}" and following whitespace, "%}" and one newline), or -1. */
    private int closeBlock(int k) {
        if (src.startsWith("+%}", k)) {
            return k + 3;
        }
        if (src.startsWith("-%}", k)) {
            return skipSpace(k + 3);
        }
        if (src.startsWith("%}", k)) {
            return k + 2 < src.length() && src.charAt(k + 2) == '\n' ? k + 3 : k + 2;
        }
        return -1;
    }

    private void lexTag(Kind begin) {
        out.add(new Token(begin, begin == Kind.VARIABLE_BEGIN ? "{{" : "{%", line));
        Deque<Character> balance = new ArrayDeque<>();
        while (true) {
            if (pos >= src.length()) {
                throw new TemplateException("line " + line + ": unexpected end of template, expected '"
                        + (begin == Kind.VARIABLE_BEGIN ? "}}" : "%}") + "'");
            }
            if (balance.isEmpty()) {
                int end = begin == Kind.BLOCK_BEGIN ? closeBlock(pos) : closeVariable(pos);
                if (end >= 0) {
                    out.add(new Token(begin == Kind.BLOCK_BEGIN ? Kind.BLOCK_END : Kind.VARIABLE_END, "", line));
                    countLines(pos, end);
                    lineStarting = src.charAt(end - 1) == '\n';
                    pos = end;
                    return;
                }
            }
            char c = src.charAt(pos);
            if (PyStrings.isSpace(c)) {
                if (c == '\n') {
                    line++;
                }
                pos++;
            } else if (Character.isDigit(c) && c < 128) {
                lexNumber();
            } else if (c == '_' || Character.isUnicodeIdentifierStart(c)) {
                int start = pos;
                while (pos < src.length() && (src.charAt(pos) == '_' || Character.isUnicodeIdentifierPart(src.charAt(pos)))) {
                    pos++;
                }
                out.add(new Token(Kind.NAME, src.substring(start, pos), line));
            } else if (c == '\'' || c == '"') {
                lexString(c);
            } else {
                String op = operatorAt(pos);
                if (op == null) {
                    throw new TemplateException("line " + line + ": unexpected char '" + c + "'");
                }
                switch (op) {
                    case "{" -> balance.push('}');
                    case "(" -> balance.push(')');
                    case "[" -> balance.push(']');
                    case "}", ")", "]" -> {
                        if (balance.isEmpty()) {
                            throw new TemplateException("line " + line + ": unexpected '" + op + "'");
                        }
                        char expected = balance.pop();
                        if (expected != op.charAt(0)) {
                            throw new TemplateException("line " + line + ": unexpected '" + op + "', expected '" + expected + "'");
                        }
                    }
                    default -> { }
                }
                out.add(new Token(Kind.OPERATOR, op, line));
                pos += op.length();
            }
        }
    }

    private int closeVariable(int k) {
        if (src.startsWith("-}}", k)) {
            return skipSpace(k + 3);
        }
        return src.startsWith("}}", k) ? k + 2 : -1;
    }

    private String operatorAt(int i) {
        for (String op : OPERATORS) {
            if (src.startsWith(op, i)) {
                return op;
            }
        }
        return null;
    }

    /** Integers (decimal, 0x, 0o, 0b, with "_") and floats ("1.5", "1e3", "1.5e-3"), as Jinja2 reads them. */
    private void lexNumber() {
        int start = pos;
        if (src.charAt(pos) == '0' && pos + 1 < src.length() && "xXoObB".indexOf(src.charAt(pos + 1)) >= 0) {
            char base = Character.toLowerCase(src.charAt(pos + 1));
            pos += 2;
            int digitsStart = pos;
            while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                pos++;
            }
            String digits = src.substring(digitsStart, pos).replace("_", "");
            int radix = base == 'x' ? 16 : base == 'o' ? 8 : 2;
            out.add(new Token(Kind.INTEGER, Long.parseLong(digits, radix), line));
            return;
        }
        pos = digits(pos);
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            pos = digits(pos + 1);
            isFloat = true;
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int e = pos + 1;
            if (e < src.length() && (src.charAt(e) == '+' || src.charAt(e) == '-')) {
                e++;
            }
            if (e < src.length() && Character.isDigit(src.charAt(e))) {
                pos = digits(e);
                isFloat = true;
            }
        }
        String text = src.substring(start, pos).replace("_", "");
        out.add(isFloat ? new Token(Kind.FLOAT, Double.parseDouble(text), line)
                : new Token(Kind.INTEGER, Long.parseLong(text), line));
    }

    private int digits(int i) {
        while (i < src.length() && (Character.isDigit(src.charAt(i)) || (src.charAt(i) == '_' && i + 1 < src.length()
                && Character.isDigit(src.charAt(i + 1))))) {
            i++;
        }
        return i;
    }

    /** A quoted string with Python's escapes ({@code \n}, {@code \'}, {@code \x41}, {@code \u00e9}, ...). */
    private void lexString(char quote) {
        int startLine = line;
        StringBuilder b = new StringBuilder();
        int i = pos + 1;
        while (true) {
            if (i >= src.length()) {
                throw new TemplateException("line " + startLine + ": unterminated string literal");
            }
            char c = src.charAt(i);
            if (c == quote) {
                i++;
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\' || i + 1 >= src.length()) {
                b.append(c);
                i++;
                continue;
            }
            char e = src.charAt(i + 1);
            i += 2;
            switch (e) {
                case '\n' -> line++; // a backslash-newline continues the line
                case '\\' -> b.append('\\');
                case '\'' -> b.append('\'');
                case '"' -> b.append('"');
                case 'a' -> b.append('\u0007');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'v' -> b.append('\u000B');
                case 'x' -> i = hexEscape(b, i, 2, startLine);
                case 'u' -> i = hexEscape(b, i, 4, startLine);
                case 'U' -> i = hexEscape(b, i, 8, startLine);
                case 'N' -> i = namedEscape(b, i, startLine);
                default -> {
                    if (e >= '0' && e <= '7') {
                        int j = i - 1;
                        int v = 0;
                        while (j < src.length() && j < i + 2 && src.charAt(j) >= '0' && src.charAt(j) <= '7') {
                            v = v * 8 + (src.charAt(j) - '0');
                            j++;
                        }
                        b.appendCodePoint(v);
                        i = j;
                    } else {
                        b.append('\\').append(e); // Python keeps unknown escapes as written
                    }
                }
            }
        }
        out.add(new Token(Kind.STRING, b.toString(), startLine));
        pos = i;
    }

    private int hexEscape(StringBuilder b, int i, int n, int startLine) {
        if (i + n > src.length()) {
            throw new TemplateException("line " + startLine + ": truncated \\" + (n == 2 ? "x" : n == 4 ? "u" : "U") + " escape");
        }
        try {
            b.appendCodePoint(Integer.parseInt(src.substring(i, i + n), 16));
        } catch (IllegalArgumentException e) {
            throw new TemplateException("line " + startLine + ": bad escape \\" + src.substring(i - 1, i + n));
        }
        return i + n;
    }

    private int namedEscape(StringBuilder b, int i, int startLine) {
        int close = src.indexOf('}', i);
        if (i >= src.length() || src.charAt(i) != '{' || close < 0) {
            throw new TemplateException("line " + startLine + ": malformed \\N character escape");
        }
        try {
            b.appendCodePoint(Character.codePointOf(src.substring(i + 1, close)));
        } catch (IllegalArgumentException e) {
            throw new TemplateException("line " + startLine + ": unknown Unicode character name " + src.substring(i + 1, close));
        }
        return close + 1;
    }

    private int skipSpace(int i) {
        while (i < src.length() && PyStrings.isSpace(src.charAt(i))) {
            i++;
        }
        return i;
    }

    private void countLines(int from, int to) {
        for (int i = from; i < to; i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
    }

    private static int count(String s, char c) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                n++;
            }
        }
        return n;
    }
}
