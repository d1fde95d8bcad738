package kittyspark.runtime.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The lines of a vendored Hugging Face reference ({@code .jsonl.xz}), for one tokenizer. */
final class HfTokenizerReference {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One reference line: plain text ({@code messages} null) or a chat ({@code text} is the rendering). */
    record Line(String tokenizer, String id, String text, JsonNode messages, int[] ids, int[] promptIds) {
    }

    private HfTokenizerReference() {
    }

    static List<Line> read(String file, String tokenizer) {
        Path path = TestFiles.tokenizerReference(file);
        List<Line> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(TokenizerFiles.open(path), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode o = JSON.readTree(line);
                if (!o.path("tokenizer").asText().equals(tokenizer)) {
                    continue;
                }
                boolean chat = o.has("messages");
                out.add(new Line(tokenizer, o.path("id").asText(), o.path(chat ? "rendered" : "text").asText(),
                        chat ? o.get("messages") : null, ints(o.path("ids")),
                        o.has("prompt_ids") ? ints(o.path("prompt_ids")) : null));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
