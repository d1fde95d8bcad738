package kittyspark.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What names a model in fingerprints: its directory name plus a digest of its config,
 * tokenizer and weight file sizes. Moving the directory keeps the identity; changing the
 * weights or tokenizer changes it (and so regenerates rows on resume).
 */
public record ModelIdentity(String name, String digest) {

    public String fingerprintPart() {
        return name + "@" + digest;
    }

    public static ModelIdentity of(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new InputException("model directory " + modelDir + " does not exist; set --model or kitty.model");
        }
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new InputException("model directory " + modelDir + " has no config.json (Hugging Face layout expected)");
        }
        StringBuilder s = new StringBuilder();
        try {
            for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
                Path p = modelDir.resolve(f);
                if (Files.isRegularFile(p)) {
                    s.append(f).append('=').append(StableHash.sha256Hex(Files.readString(p))).append(';');
                }
            }
            // Compressed tokenizer files and a separate chat template count too (absent from the demo model,
            // so its identity is unchanged); their bytes are hashed as Latin-1 text.
            for (String f : List.of("tokenizer.json.xz", "tokenizer_config.json.xz", "chat_template.jinja")) {
                Path p = modelDir.resolve(f);
                if (Files.isRegularFile(p)) {
                    String bytes = new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1);
                    s.append(f).append('=').append(StableHash.sha256Hex(bytes)).append(';');
                }
            }
            try (Stream<Path> files = Files.list(modelDir)) {
                files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(p -> {
                    try {
                        s.append(p.getFileName()).append(':').append(Files.size(p)).append(';');
                    } catch (IOException e) {
                        throw new InputException("cannot read " + p + ": " + e.getMessage(), e);
                    }
                });
            }
        } catch (IOException e) {
            throw new InputException("cannot read model directory " + modelDir + ": " + e.getMessage(), e);
        }
        return new ModelIdentity(modelDir.toAbsolutePath().normalize().getFileName().toString(),
                StableHash.sha256Hex(s.toString()).substring(0, 16));
    }
}
