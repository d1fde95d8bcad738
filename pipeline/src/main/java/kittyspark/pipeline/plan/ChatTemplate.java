package kittyspark.pipeline.plan;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import kittyspark.runtime.tokenizer.template.TemplateException;

/**
 * A row's chat messages rendered with the checkpoint's own chat template, as Hugging Face's
 * {@code apply_chat_template(messages, add_generation_prompt=True)} renders them (the renderer is
 * gpu-runtime's {@link kittyspark.runtime.tokenizer.template.ChatTemplate}).
 */
public final class ChatTemplate {
    private final kittyspark.runtime.tokenizer.template.ChatTemplate template;

    private ChatTemplate(kittyspark.runtime.tokenizer.template.ChatTemplate template) {
        this.template = template;
    }

    /**
     * The template of a model directory, or null when it has none (the demo model).
     *
     * @throws IllegalStateException naming the file, if the template cannot be read or parsed
     */
    public static ChatTemplate load(Path modelDir) {
        try {
            return kittyspark.runtime.tokenizer.template.ChatTemplate.load(modelDir).map(ChatTemplate::new).orElse(null);
        } catch (TemplateException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public static ChatTemplate of(String template, Map<String, String> specialTokens) {
        return new ChatTemplate(kittyspark.runtime.tokenizer.template.ChatTemplate.of(template, specialTokens));
    }

    /**
     * The prompt text for a conversation, ending where the assistant's reply begins.
     *
     * @throws IllegalArgumentException saying why, when a message has no role or the template rejects the conversation
     */
    public String render(List<PromptRow.ChatMessage> messages) {
        List<kittyspark.runtime.tokenizer.template.ChatTemplate.Message> msgs = new ArrayList<>(messages.size());
        for (PromptRow.ChatMessage m : messages) {
            msgs.add(new kittyspark.runtime.tokenizer.template.ChatTemplate.Message(m.role(), m.content()));
        }
        try {
            return template.render(msgs, true);
        } catch (TemplateException e) {
            throw new IllegalArgumentException("chat template failed: " + e.getMessage(), e);
        }
    }
}
