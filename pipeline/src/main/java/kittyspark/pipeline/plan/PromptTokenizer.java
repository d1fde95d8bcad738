package kittyspark.pipeline.plan;

/** What prompt encoding needs from a model: its tokenizer and its context length. */
public interface PromptTokenizer {
    /** The prompt ids of {@code text}, a plain prompt or a rendered chat ({@link kittyspark.runtime.tokenizer.Tokenizer#promptIds}). */
    int[] promptIds(String text, boolean renderedChat);

    /** The model's context length in tokens (prompt plus completion). */
    int contextLimit();
}
