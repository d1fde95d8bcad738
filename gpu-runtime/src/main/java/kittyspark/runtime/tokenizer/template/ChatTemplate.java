package kittyspark.runtime.tokenizer.template;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.tokenizer.TokenizerFiles;

/**
 * A checkpoint's chat template, rendered as Hugging Face's
 * {@code tokenizer.apply_chat_template(messages, add_generation_prompt=...)} renders it: the
 * variables are {@code messages} (dicts of role and content), {@code add_generation_prompt},
 * {@code tools} and {@code documents} (None), the special tokens of tokenizer_config.json
 * ({@code bos_token}, {@code eos_token}, ...), and any extra variables (e.g. Qwen3's
 * {@code enable_thinking}); the functions are {@code raise_exception} and {@code strftime_now}.
 * Message content is data: it is never parsed as template code. Immutable and thread-safe.
 */
public final class ChatTemplate {
    /** One chat message; {@code content} may be null (Python None), {@code role} may not. */
    public record Message(String role, String content) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");

    private final JinjaTemplate template;
    private final Map<String, Object> specialTokens;
    private final String source;

    private ChatTemplate(String source, Map<String, Object> specialTokens, Clock clock) {
        this.source = source;
        this.specialTokens = Map.copyOf(specialTokens);
        this.template = huggingFaceTemplate(source, clock);
    }

    /** A template with the globals Hugging Face adds: {@code raise_exception(message)} and {@code strftime_now(format)}. */
    static JinjaTemplate huggingFaceTemplate(String source, Clock clock) {
        return JinjaTemplate.parse(source).withGlobals(Map.of(
                "raise_exception", (PyCallable) (args, kwargs) -> {
                    throw new TemplateException(args.isEmpty() ? "raise_exception() called" : PyValues.str(args.get(0)));
                },
                "strftime_now", (PyCallable) (args, kwargs) -> {
                    if (args.size() != 1 || !(args.get(0) instanceof String f)) {
                        throw new TemplateException("strftime_now() takes one format string");
                    }
                    return Strftime.format(f, ZonedDateTime.now(clock));
                }));
    }

    /**
     * A template from its source and the special tokens it may refer to ({@code bos_token}: "...").
     *
     * @throws TemplateException if the source does not parse
     */
    public static ChatTemplate of(String source, Map<String, String> specialTokens) {
        return new ChatTemplate(source, new LinkedHashMap<>(specialTokens), Clock.systemDefaultZone());
    }

    static ChatTemplate of(String source, Map<String, String> specialTokens, Clock clock) {
        return new ChatTemplate(source, new LinkedHashMap<>(specialTokens), clock);
    }

    /**
     * The chat template of a model or tokenizer directory: {@code chat_template.jinja} if present
     * (newer checkpoints keep it there), else {@code tokenizer_config.json}'s {@code chat_template}
     * (its "default" entry when it is a list of named templates). Empty when there is none.
     *
     * @throws TemplateException naming the file, if a file cannot be read or the template does not parse
     */
    public static Optional<ChatTemplate> load(Path dir) {
        Optional<Path> configFile = TokenizerFiles.find(dir, TokenizerFiles.TOKENIZER_CONFIG_JSON);
        JsonNode config = configFile.map(ChatTemplate::readJson).orElse(JSON.createObjectNode());
        Path jinjaFile = dir.resolve("chat_template.jinja");
        String source;
        String where;
        if (Files.isRegularFile(jinjaFile)) {
            try {
                source = Files.readString(jinjaFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new TemplateException(jinjaFile + ": cannot read the chat template: " + e.getMessage(), e);
            }
            where = jinjaFile.toString();
        } else {
            source = templateOf(config.get("chat_template"));
            where = configFile.map(Path::toString).orElse(dir.toString()) + ": chat_template";
        }
        if (source == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ChatTemplate(source, specialTokens(config), Clock.systemDefaultZone()));
        } catch (TemplateException e) {
            throw new TemplateException(where + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readJson(Path file) {
        try (InputStream in = TokenizerFiles.open(file)) {
            JsonNode n = JSON.readTree(in);
            if (n == null || !n.isObject()) {
                throw new TemplateException(file + ": not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new TemplateException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String templateOf(JsonNode t) {
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) {
                    return named.path("template").asText(null);
                }
            }
            throw new TemplateException("chat_template is a list of named templates without a \"default\" one");
        }
        throw new TemplateException("chat_template is neither a string nor a list of named templates");
    }

    /** The special tokens Hugging Face passes to the template: those of tokenizer_config.json that are set. */
    private static Map<String, Object> specialTokens(JsonNode config) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : SPECIAL_TOKEN_KEYS) {
            String v = tokenText(config.get(k));
            if (v != null) {
                out.put(k, v);
            }
        }
        JsonNode extra = config.get("additional_special_tokens");
        if (extra != null && extra.isArray()) {
            List<Object> list = new ArrayList<>();
            extra.forEach(t -> {
                String v = tokenText(t);
                if (v != null) {
                    list.add(v);
                }
            });
            out.put("additional_special_tokens", list);
        }
        return out;
    }

    private static String tokenText(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        return v.path("content").isTextual() ? v.path("content").asText() : null;
    }

    /** The prompt text for a conversation, as {@code apply_chat_template(messages, add_generation_prompt=...)}. */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Like {@link #render(List, boolean)} with extra template variables, as keyword arguments of
     * {@code apply_chat_template} are (e.g. {@code enable_thinking=false} for Qwen3).
     *
     * @throws TemplateException when a message has no role, or the template fails (a
     *     {@code raise_exception}, a missing value, a type error); the message says which
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        List<Object> msgs = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            Message m = Objects.requireNonNull(messages.get(i), "message");
            if (m.role() == null) {
                throw new TemplateException("message " + i + " has no role (null)");
            }
            Map<String, Object> dict = new LinkedHashMap<>();
            dict.put("role", m.role());
            dict.put("content", m.content());
            msgs.add(dict);
        }
        Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
        vars.putAll(extraVariables);
        vars.put("messages", msgs);
        vars.put("tools", null);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        return template.render(vars);
    }

    /** The template source, as read. */
    public String source() {
        return source;
    }

    /** The special-token variables the template sees. */
    public Map<String, Object> specialTokens() {
        return specialTokens;
    }
}
