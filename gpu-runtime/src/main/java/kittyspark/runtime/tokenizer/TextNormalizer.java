package kittyspark.runtime.tokenizer;

import java.text.Normalizer;
import java.util.List;

/**
 * tokenizer.json's normalizer: none (Llama 3, the demo model) or Unicode normalization forms
 * (Qwen3 uses NFC), possibly in a Sequence. Applied to the text between added tokens.
 */
final class TextNormalizer {
    static final TextNormalizer NONE = new TextNormalizer(List.of());

    private final List<Normalizer.Form> forms;

    TextNormalizer(List<Normalizer.Form> forms) {
        this.forms = List.copyOf(forms);
    }

    boolean isIdentity() {
        return forms.isEmpty();
    }

    String apply(String text) {
        for (Normalizer.Form form : forms) {
            // isNormalized is much cheaper than normalize and true for almost all real text.
            if (!Normalizer.isNormalized(text, form)) {
                text = Normalizer.normalize(text, form);
            }
        }
        return text;
    }
}
