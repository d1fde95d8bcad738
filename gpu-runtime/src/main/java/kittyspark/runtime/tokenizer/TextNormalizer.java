package kittyspark.runtime.tokenizer;

import java.text.Normalizer;
import java.util.List;

/**
 * tokenizer.json's normalizer: none (Llama 3, the demo model) or Unicode normalization forms
 * (Qwen3 uses NFC), possibly in a Sequence, with Hugging Face's Unicode 9.0 normalization data
 * ({@link LegacyNormalization}). Applied to the text between added tokens.
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
            text = LegacyNormalization.normalize(text, form);
        }
        return text;
    }
}
