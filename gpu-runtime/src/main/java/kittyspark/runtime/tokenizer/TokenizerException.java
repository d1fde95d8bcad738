package kittyspark.runtime.tokenizer;

/** A tokenizer file that cannot be used, or an id that is not in the vocabulary; the message says which and why. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
