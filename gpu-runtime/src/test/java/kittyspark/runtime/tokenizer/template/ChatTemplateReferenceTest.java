package kittyspark.runtime.tokenizer.template;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.testing.TestData;
import kittyspark.runtime.tokenizer.Tokenizer;
import kittyspark.runtime.tokenizer.TokenizerFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The real Qwen3 and Llama 3.1 chat templates render byte for byte what transformers'
 * {@code apply_chat_template(add_generation_prompt=True)} rendered for the 13 reference
 * conversations (system prompts, multi-turn, {@code <think>} history, empty contents, Unicode,
 * whitespace edges, template syntax inside content, tool roles, CRLF), and the 5 chats of the
 * tokenizer reference, whose ids follow too.
 */
class ChatTemplateReferenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void everyReferenceConversationRendersExactlyAsTransformersDid(String name) throws IOException {
        ChatTemplate template = ChatTemplate.load(dir(name)).orElseThrow();
        JsonNode ref = JSON.readTree(dataFile("chat-reference-public.json").toFile());
        List<String> wrong = new ArrayList<>();
        int total = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = ref.path("conversations").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> conv = it.next();
            String expected = ref.path("rendered").path(name).path(conv.getKey()).asText();
            total++;
            try {
                String got = template.render(messages(conv.getValue()), true);
                if (!expected.equals(got)) {
                    wrong.add(conv.getKey() + ":\n  expected " + JSON.writeValueAsString(expected) + "\n  got      "
                            + JSON.writeValueAsString(got));
                }
            } catch (RuntimeException e) {
                wrong.add(conv.getKey() + ": " + e);
            }
        }
        System.out.printf("%s chat-reference-public.json: %d/%d conversations exact%n", name, total - wrong.size(), total);
        assertEquals(13, total);
        assertEquals(List.of(), wrong, name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void tokenizerReferenceChatsRenderAndEncodeToTheReferenceIds(String name) throws IOException {
        ChatTemplate template = ChatTemplate.load(dir(name)).orElseThrow();
        Tokenizer tokenizer = Tokenizer.load(TokenizerFiles.tokenizerJson(dir(name)));
        int chats = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                TokenizerFiles.open(dataFile("reference-public.jsonl.xz")), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                JsonNode o = JSON.readTree(line);
                if (!o.path("tokenizer").asText().equals(name) || !o.has("messages")) {
                    continue;
                }
                chats++;
                String rendered = template.render(messages(o.get("messages")), true);
                assertEquals(o.path("rendered").asText(), rendered, o.path("id").asText());
                // A rendered chat already holds its specials: nothing is added (as transformers does).
                assertArrayEquals(JSON.convertValue(o.get("prompt_ids"), int[].class), tokenizer.encode(rendered, false),
                        o.path("id").asText());
            }
        }
        assertEquals(5, chats);
    }

    static List<ChatTemplate.Message> messages(JsonNode array) {
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (JsonNode m : array) {
            out.add(new ChatTemplate.Message(m.path("role").asText(), m.path("content").isNull() ? null
                    : m.path("content").asText()));
        }
        return out;
    }

    static Path dir(String name) {
        return TestData.repoRoot().resolve("data/tokenizers").resolve(name);
    }

    static Path dataFile(String file) {
        return TestData.repoRoot().resolve("data/tokenizers").resolve(file);
    }
}
