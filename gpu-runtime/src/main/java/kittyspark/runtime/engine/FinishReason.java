package kittyspark.runtime.engine;

/** Why a sequence stopped. */
public enum FinishReason {
    /** The model produced an end-of-sequence token. */
    EOS,
    /** A stop string appeared in the completion (it is cut just before it). */
    STOP,
    /** max_new_tokens (or the model's context) was reached. */
    LENGTH,
    /** The request could not be served; see the error message. */
    ERROR;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
