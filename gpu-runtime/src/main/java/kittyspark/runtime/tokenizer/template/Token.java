package kittyspark.runtime.tokenizer.template;

/** One lexer token: its kind, its value (text of data, name, operator; the parsed literal), its 1-based line. */
record Token(Kind kind, Object value, int line) {
    enum Kind {
        DATA, VARIABLE_BEGIN, VARIABLE_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF
    }

    boolean is(Kind k) {
        return kind == k;
    }

    boolean isName(String name) {
        return kind == Kind.NAME && value.equals(name);
    }

    boolean isOperator(String op) {
        return kind == Kind.OPERATOR && value.equals(op);
    }

    String describe() {
        return switch (kind) {
            case EOF -> "end of template";
            case BLOCK_END -> "end of statement block";
            case VARIABLE_END -> "end of print statement";
            default -> "'" + value + "'";
        };
    }
}
