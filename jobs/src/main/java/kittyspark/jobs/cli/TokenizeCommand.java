package kittyspark.jobs.cli;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.tokenizer.Tokenizer;
import kittyspark.runtime.tokenizer.TokenizerException;
import kittyspark.runtime.tokenizer.TokenizerFiles;
import kittyspark.runtime.tokenizer.template.ChatTemplate;
import kittyspark.runtime.tokenizer.template.TemplateException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Tokenizes a JSON-lines dataset with a model's tokenizer and chat template, without loading the
 * model: per line the ids, the prompt ids a generate job gives that row, and the token count. A
 * bad line becomes an error line; the command goes on to the next.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize JSON lines {id, text} or {id, messages: [{role, content}, ...]} into "
                + "{id, text, ids, prompt_ids, n_tokens} lines (text: the rendered chat for messages; ids: no special "
                + "tokens added; prompt_ids: what the generate job feeds the model, before its context limit). "
                + "A bad line becomes {id, error}. Prints rows, tokens and tokens/s.")
public final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Lines handed to the workers at a time; output keeps input order. */
    private static final int BATCH = 1024;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "A model directory, or any folder with tokenizer.json (and tokenizer_config.json with "
                    + "chat_template, for messages); .xz files are read too. Default: the bundled demo model.")
    Path tokenizerDir;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON lines (.jsonl, or .jsonl.xz).")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "JSON lines out.")
    Path output;

    @Option(names = "--var", paramLabel = "KEY=JSON",
            description = "An extra chat-template variable, e.g. --var enable_thinking=false (repeatable; the value is JSON, "
                    + "or a plain string).")
    Map<String, String> vars = new LinkedHashMap<>();

    @Option(names = "--threads", defaultValue = "0", description = "Worker threads; 0 = one per core.")
    int threads;

    /** What a run did, for the summary line. */
    record Totals(long rows, long errors, long tokens, double seconds) {
        double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    @Override
    public Integer call() throws Exception {
        Path dir = tokenizerDir != null ? tokenizerDir : KittyHome.demoModel();
        if (!Files.isRegularFile(input)) {
            throw new IllegalArgumentException(input + ": input file not found");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": tokenizer directory not found");
        }
        Tokenizer tokenizer = Tokenizer.load(TokenizerFiles.tokenizerJson(dir));
        Optional<ChatTemplate> template;
        try {
            template = ChatTemplate.load(dir);
        } catch (TemplateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Map<String, Object> templateVars = parseVars(vars);
        Totals t = run(new RowTokenizer(tokenizer, template.orElse(null), templateVars, dir));
        System.err.printf("tokenized %d rows (%d errors), %d prompt tokens in %.2f s: %.0f tokens/s -> %s%n",
                t.rows(), t.errors(), t.tokens(), t.seconds(), t.tokensPerSecond(), output);
        return 0;
    }

    private Totals run(RowTokenizer rows) throws IOException, InterruptedException {
        int workers = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread th = new Thread(r, "kitty-tokenize");
            th.setDaemon(true);
            return th;
        });
        long rowCount = 0;
        long errors = 0;
        long tokens = 0;
        long t0 = System.nanoTime();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(TokenizerFiles.open(input), StandardCharsets.UTF_8));
             BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
            int lineNo = 0;
            while (true) {
                List<Future<RowTokenizer.Result>> batch = new ArrayList<>(BATCH);
                String line;
                while (batch.size() < BATCH && (line = in.readLine()) != null) {
                    lineNo++;
                    if (line.isBlank()) {
                        continue;
                    }
                    String text = line;
                    int n = lineNo;
                    batch.add(pool.submit(() -> rows.tokenize(text, n)));
                }
                if (batch.isEmpty()) {
                    break;
                }
                for (Future<RowTokenizer.Result> f : batch) {
                    RowTokenizer.Result r = get(f);
                    out.write(r.json());
                    out.newLine();
                    rowCount++;
                    if (r.error()) {
                        errors++;
                    } else {
                        tokens += r.promptTokens();
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return new Totals(rowCount, errors, tokens, (System.nanoTime() - t0) / 1e9);
    }

    private static RowTokenizer.Result get(Future<RowTokenizer.Result> f) throws InterruptedException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            // RowTokenizer turns every failure of a row into an error row; anything else is a bug worth seeing.
            throw new IllegalStateException("tokenizing a row failed unexpectedly: " + e.getCause(), e.getCause());
        }
    }

    /** {@code KEY=JSON} values: JSON when it parses (false, 3, "x", [..]), else the text itself. */
    static Map<String, Object> parseVars(Map<String, String> raw) {
        Map<String, Object> out = new LinkedHashMap<>();
        raw.forEach((k, v) -> {
            Object value;
            try {
                value = JSON.readValue(v, Object.class);
            } catch (IOException notJson) {
                value = v;
            }
            out.put(k, value);
        });
        return out;
    }

    /** One input line to one output line. Thread-safe: the tokenizer and template are. */
    static final class RowTokenizer {
        record Result(String json, boolean error, int promptTokens) {
        }

        private final Tokenizer tokenizer;
        private final ChatTemplate template;
        private final Map<String, Object> templateVars;
        private final Path dir;

        RowTokenizer(Tokenizer tokenizer, ChatTemplate template, Map<String, Object> templateVars, Path dir) {
            this.tokenizer = tokenizer;
            this.template = template;
            this.templateVars = templateVars;
            this.dir = dir;
        }

        Result tokenize(String line, int lineNo) {
            ObjectNode row = JSON.createObjectNode();
            JsonNode in;
            try {
                in = JSON.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                return error(row.putNull("id").put("line", lineNo), "not valid JSON: " + e.getOriginalMessage());
            }
            if (in == null || !in.isObject()) {
                return error(row.putNull("id").put("line", lineNo), "a line must be a JSON object");
            }
            JsonNode id = in.get("id");
            row.set("id", id == null ? JSON.nullNode() : id);
            try {
                String text;
                boolean chat;
                if (in.has("messages") && !in.get("messages").isNull()) {
                    if (template == null) {
                        return error(row, dir + " has no chat template (tokenizer_config.json: chat_template)");
                    }
                    text = template.render(messages(in.get("messages")), true, templateVars);
                    chat = true;
                } else if (in.path("text").isTextual()) {
                    text = in.get("text").asText();
                    chat = false;
                } else {
                    return error(row, "the line needs a 'text' string or a 'messages' array");
                }
                int[] ids = tokenizer.encode(text);
                int[] promptIds = tokenizer.promptIds(ids, chat);
                row.put("text", text);
                row.set("ids", JSON.valueToTree(ids));
                row.set("prompt_ids", JSON.valueToTree(promptIds));
                row.put("n_tokens", promptIds.length);
                return new Result(JSON.writeValueAsString(row), false, promptIds.length);
            } catch (TokenizerException | TemplateException | IllegalArgumentException | IOException e) {
                return error(row, e.getMessage());
            }
        }

        private static List<ChatTemplate.Message> messages(JsonNode array) {
            if (!array.isArray()) {
                throw new IllegalArgumentException("'messages' must be an array of {role, content}");
            }
            List<ChatTemplate.Message> out = new ArrayList<>();
            for (int i = 0; i < array.size(); i++) {
                JsonNode m = array.get(i);
                if (!m.isObject()) {
                    throw new IllegalArgumentException("messages[" + i + "] is not an object");
                }
                JsonNode role = m.get("role");
                JsonNode content = m.get("content");
                if (role == null || !role.isTextual()) {
                    throw new IllegalArgumentException("messages[" + i + "].role must be a string");
                }
                if (content != null && !content.isNull() && !content.isTextual()) {
                    throw new IllegalArgumentException("messages[" + i + "].content must be a string or null");
                }
                out.add(new ChatTemplate.Message(role.asText(), content == null || content.isNull() ? null : content.asText()));
            }
            return out;
        }

        private Result error(ObjectNode row, String message) {
            row.put("error", message == null ? "failed" : message);
            try {
                return new Result(JSON.writeValueAsString(row), true, 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
