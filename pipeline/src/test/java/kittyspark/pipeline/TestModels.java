package kittyspark.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Variants of the demo model for tests, built in a temporary directory. */
public final class TestModels {
    /**
     * A Qwen-style chat template that, like Hugging Face templates, rejects a role it does not
     * know with raise_exception.
     */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
            + "{{ raise_exception('Unknown role: ' + message['role']) }}{% endif %}"
            + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private TestModels() {
    }

    /** The demo model with {@link #CHAT_TEMPLATE}: its files linked, tokenizer_config.json rewritten. */
    public static Path withChatTemplate(Path dir) {
        try {
            Files.createDirectories(dir);
            for (Path f : files()) {
                if (!f.getFileName().toString().equals("tokenizer_config.json")) {
                    Files.createSymbolicLink(dir.resolve(f.getFileName()), f);
                }
            }
            String json = "{\"bos_token\": \"<|endoftext|>\", \"eos_token\": \"<|endoftext|>\", \"model_max_length\": 4096, "
                    + "\"chat_template\": " + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(CHAT_TEMPLATE) + "}";
            Files.writeString(dir.resolve("tokenizer_config.json"), json);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A full copy of the demo model: its files may be changed. */
    public static Path copy(Path dir) {
        try {
            Files.createDirectories(dir);
            for (Path f : files()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(TestSpark.DEMO_MODEL)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
