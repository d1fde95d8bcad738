package kittyspark.jobs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.jobs.cli.KittyCli;
import kittyspark.runtime.tokenizer.TokenizerFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kitty-spark tokenize} as a user runs it on the vendored real tokenizers and their Hugging Face reference. */
class TokenizeCommandTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama-3.1"})
    void everyReferenceLineComesOutWithTheReferenceTextIdsAndPromptIds(String name) throws IOException {
        List<JsonNode> reference = reference(name);
        List<String> input = new ArrayList<>();
        for (JsonNode r : reference) {
            ObjectNode line = JSON.createObjectNode().put("id", r.path("id").asText());
            if (r.has("messages")) {
                line.set("messages", r.get("messages"));
            } else {
                line.put("text", r.path("text").asText());
            }
            input.add(JSON.writeValueAsString(line));
        }
        List<JsonNode> out = run(name, input);
        assertEquals(reference.size(), out.size());
        for (int i = 0; i < out.size(); i++) {
            JsonNode r = reference.get(i);
            JsonNode o = out.get(i);
            String id = r.path("id").asText();
            assertEquals(id, o.path("id").asText());
            assertEquals(r.has("messages") ? r.path("rendered").asText() : r.path("text").asText(), o.path("text").asText(), id);
            assertEquals(r.get("ids"), o.get("ids"), id);
            assertEquals(r.get("prompt_ids"), o.get("prompt_ids"), id);
            assertEquals(r.get("prompt_ids").size(), o.path("n_tokens").asInt(), id);
        }
    }

    @Test
    void aBadLineBecomesAnErrorLineAndTheRunGoesOn() throws IOException {
        List<JsonNode> out = run("qwen3", List.of(
                "{\"id\": \"ok-1\", \"text\": \"hello\"}",
                "this is not json",
                "{\"id\": \"no-text\"}",
                "{\"id\": \"surrogate\", \"text\": \"bad \\ud83d here\"}",
                "{\"id\": \"bad-messages\", \"messages\": \"not a list\"}",
                "{\"id\": \"null-role\", \"messages\": [{\"role\": null, \"content\": \"x\"}]}",
                "{\"id\": \"ok-2\", \"messages\": [{\"role\": \"user\", \"content\": \"{{ 7*7 }}\"}]}"));
        assertEquals(7, out.size());
        assertEquals(List.of("ok-1", "<null>", "no-text", "surrogate", "bad-messages", "null-role", "ok-2"),
                out.stream().map(o -> o.path("id").isNull() ? "<null>" : o.path("id").asText()).toList());
        for (int i = 1; i <= 5; i++) {
            assertTrue(out.get(i).hasNonNull("error") && !out.get(i).has("ids"), out.get(i).toString());
        }
        assertEquals(2, out.get(1).path("line").asInt(), "an unreadable line is named by its line number");
        assertTrue(out.get(3).path("error").asText().contains("lone surrogate"), out.get(3).toString());
        assertEquals("<|im_start|>user\n{{ 7*7 }}<|im_end|>\n<|im_start|>assistant\n", out.get(6).path("text").asText(),
                "message content is data, not template code");
    }

    @Test
    void templateVariablesReachTheTemplate() throws IOException {
        List<JsonNode> out = run("qwen3", List.of("{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"),
                "--var", "enable_thinking=false");
        assertTrue(out.get(0).path("text").asText().endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"),
                out.get(0).path("text").asText());
    }

    @Test
    void aMissingTokenizerDirectoryFailsNamingIt() throws IOException {
        Path in = Files.writeString(tmp.resolve("in.jsonl"), "{\"id\": \"a\", \"text\": \"x\"}\n");
        StringWriter err = new StringWriter();
        CommandLine cli = KittyCli.commandLine();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("tokenize", "--tokenizer", tmp.resolve("nowhere").toString(), "--input", in.toString(),
                "--output", tmp.resolve("out.jsonl").toString());
        assertEquals(1, code);
        assertTrue(err.toString().contains("nowhere"), err.toString());
    }

    private List<JsonNode> run(String tokenizer, List<String> lines, String... extra) throws IOException {
        Path in = Files.write(tmp.resolve("in.jsonl"), lines, StandardCharsets.UTF_8);
        Path outFile = tmp.resolve("out.jsonl");
        List<String> args = new ArrayList<>(List.of("tokenize", "--tokenizer", REPO.resolve("data/tokenizers").resolve(tokenizer)
                .toString(), "--input", in.toString(), "--output", outFile.toString(), "--threads", "2"));
        args.addAll(List.of(extra));
        StringWriter err = new StringWriter();
        CommandLine cli = KittyCli.commandLine();
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute(args.toArray(String[]::new)), err.toString());
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(outFile, StandardCharsets.UTF_8)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static List<JsonNode> reference(String name) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path file = REPO.resolve("data/tokenizers/reference-public.jsonl.xz");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(TokenizerFiles.open(file), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                JsonNode o = JSON.readTree(line);
                if (o.path("tokenizer").asText().equals(name)) {
                    out.add(o);
                }
            }
        }
        return out;
    }
}
