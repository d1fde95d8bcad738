package kittyspark.runtime.tokenizer.template;

/**
 * A template that cannot be parsed, or a render that fails (a {@code raise_exception} call, an
 * undefined value used, a type error); the message names the template line where known.
 */
public class TemplateException extends RuntimeException {
    public TemplateException(String message) {
        super(message);
    }

    public TemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
