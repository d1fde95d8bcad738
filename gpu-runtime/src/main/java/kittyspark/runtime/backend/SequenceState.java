package kittyspark.runtime.backend;

/** A backend's per-sequence state (its KV cache, wherever that lives). Opaque to the engine. */
public interface SequenceState {
    /** Tokens fed so far. */
    int length();

    /** KV bytes held now. */
    long kvBytes();

    /** Frees the KV memory at once (pages go back to the pool). Idempotent. */
    void release();
}
