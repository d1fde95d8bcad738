package kittyspark.runtime.tokenizer;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.tukaani.xz.XZInputStream;

/**
 * Where a model directory keeps its tokenizer files, and how to read them: {@code tokenizer.json}
 * and {@code tokenizer_config.json}, each possibly stored {@code .xz}-compressed beside the plain name.
 */
public final class TokenizerFiles {
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";

    private TokenizerFiles() {
    }

    /** {@code dir/name}, or {@code dir/name.xz} when only the compressed file exists; empty when neither does. */
    public static Optional<Path> find(Path dir, String name) {
        Path plain = dir.resolve(name);
        if (Files.isRegularFile(plain)) {
            return Optional.of(plain);
        }
        Path xz = dir.resolve(name + ".xz");
        return Files.isRegularFile(xz) ? Optional.of(xz) : Optional.empty();
    }

    /** The tokenizer.json of a directory; fails naming the directory when there is none. */
    public static Path tokenizerJson(Path dir) {
        return find(dir, TOKENIZER_JSON).orElseThrow(() -> new TokenizerException(
                dir + ": no " + TOKENIZER_JSON + " (or " + TOKENIZER_JSON + ".xz) in this directory"));
    }

    /** Opens a file for reading, decompressing it when its name ends in {@code .xz}. */
    public static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            return file.getFileName().toString().endsWith(".xz") ? new XZInputStream(in) : in;
        } catch (IOException e) {
            in.close();
            throw e;
        }
    }
}
