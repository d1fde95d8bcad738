package kittyspark.pipeline;

/** The input or the output location cannot be used; the message says what to fix. */
public final class InputException extends RuntimeException {
    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
