package kittyspark.pipeline.plan;

/** What prompt encoding needs from a model: its tokenizer and its context length. */
public interface PromptTokenizer {
    int[] encode(String text);

    /** The model's context length in tokens (prompt plus completion). */
    int contextLimit();
}
