package kittyspark.runtime.tokenizer;

import java.util.List;

/**
 * tokenizer.json's post_processor for a single sequence: the special tokens that
 * {@code encode(text, add_special_tokens=True)} puts around the ids (Llama 3's
 * {@code <|begin_of_text|>}; nothing for Qwen3, whose post-processor is ByteLevel). Immutable.
 */
final class PostProcessor {
    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    private final int[] prefix;
    private final int[] suffix;

    PostProcessor(int[] prefix, int[] suffix) {
        this.prefix = prefix.clone();
        this.suffix = suffix.clone();
    }

    /** Applies {@code steps} in order, as Hugging Face's Sequence post-processor does. */
    static PostProcessor sequence(List<PostProcessor> steps) {
        PostProcessor out = NONE;
        for (PostProcessor step : steps) {
            out = new PostProcessor(concat(step.prefix, out.prefix), concat(out.suffix, step.suffix));
        }
        return out;
    }

    boolean addsNothing() {
        return prefix.length == 0 && suffix.length == 0;
    }

    int[] apply(int[] ids) {
        if (addsNothing()) {
            return ids;
        }
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
