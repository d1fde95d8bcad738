package kittyspark.pipeline.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;

/**
 * Renders chat messages with the checkpoint's own Jinja chat template
 * ({@code tokenizer_config.json: chat_template}), the way Hugging Face's
 * {@code apply_chat_template(..., add_generation_prompt=True)} does.
 */
public final class ChatTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String template;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinja;

    ChatTemplate(String template, Map<String, Object> specialTokens) {
        this.template = template;
        this.specialTokens = specialTokens;
        this.jinja = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(false).withLstripBlocks(false)
                .withFailOnUnknownTokens(false).build());
        // Hugging Face templates call raise_exception(...) to reject bad conversations.
        this.jinja.getGlobalContext().registerFunction(new com.hubspot.jinjava.lib.fn.ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    }

    public static String raiseException(String message) {
        throw new IllegalArgumentException(message);
    }

    /** The template of a model directory, or null when its tokenizer_config.json has none. */
    public static ChatTemplate load(Path modelDir) {
        Path file = modelDir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(file.toFile());
            JsonNode t = root.get("chat_template");
            String template = t == null || t.isNull() ? null
                    : t.isTextual() ? t.asText()
                    : t.isArray() && t.size() > 0 ? t.get(0).path("template").asText(null) : null;
            if (template == null) {
                return null;
            }
            Map<String, Object> special = new HashMap<>();
            for (String k : List.of("bos_token", "eos_token", "pad_token", "unk_token")) {
                JsonNode v = root.get(k);
                if (v != null && v.isTextual()) {
                    special.put(k, v.asText());
                } else if (v != null && v.has("content")) {
                    special.put(k, v.get("content").asText());
                }
            }
            return new ChatTemplate(template, special);
        } catch (IOException e) {
            throw new IllegalStateException(file + ": cannot read the chat template: " + e.getMessage(), e);
        }
    }

    public static ChatTemplate of(String template, Map<String, Object> specialTokens) {
        return new ChatTemplate(template, Map.copyOf(specialTokens));
    }

    /** The prompt text for a conversation, ending where the assistant's reply begins. */
    public String render(List<PromptRow.ChatMessage> messages) {
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (PromptRow.ChatMessage m : messages) {
            msgs.add(Map.of("role", m.role(), "content", m.content()));
        }
        Map<String, Object> ctx = new HashMap<>(specialTokens);
        ctx.put("messages", msgs);
        ctx.put("add_generation_prompt", true);
        RenderResult r = jinja.renderForResult(template, ctx);
        if (!r.getErrors().isEmpty()) {
            var err = r.getErrors().get(0);
            throw new IllegalArgumentException("chat template failed: " + templateMessage(err));
        }
        return r.getOutput();
    }

    /** The template's own words (raise_exception's message) rather than jinjava's "Error invoking function". */
    private static String templateMessage(com.hubspot.jinjava.interpret.TemplateError err) {
        Throwable t = err.getException();
        while (t != null && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t != null && t.getMessage() != null ? t.getMessage() : err.getMessage();
    }
}
