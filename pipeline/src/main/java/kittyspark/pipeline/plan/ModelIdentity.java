package kittyspark.pipeline.plan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.pipeline.InputException;
import kittyspark.pipeline.PipelineConfig.WeightsDigest;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.tokenizer.Tokenizer;
import kittyspark.runtime.tokenizer.TokenizerFiles;

/**
 * What names a model in fingerprints: its directory name plus a digest of the files that decide
 * its output (config, tokenizer, chat template, weights). Moving the directory keeps the
 * identity; changing any byte of those files changes it, and so regenerates rows on resume.
 *
 * <p>Weights are digested by content. {@link WeightsDigest#FULL} reads every byte (a CRC32C per
 * 4 MiB block, the blocks' CRCs then hashed with SHA-256: several GB/s where SHA-256 alone runs
 * at ~0.5 GB/s; it detects any accidental change, it is not a defence against tampering).
 * {@link WeightsDigest#SAMPLED} reads each file's safetensors header (names, dtypes, shapes,
 * offsets) plus the first and last 4 KiB of every tensor: megabytes instead of the whole model,
 * for large models on slow shared storage; a change that spares those bytes is not seen.
 */
public record ModelIdentity(String name, String digest) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Changing how the digest is made changes every fingerprint: bump this with it. */
    private static final String VERSION = "v2";
    private static final List<String> SMALL_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "model.safetensors.index.json",
            "tokenizer.json.xz", "tokenizer_config.json.xz");
    private static final int BLOCK = 4 << 20;
    private static final int SAMPLE = 4 << 10;

    public String fingerprintPart() {
        return name + "@" + digest;
    }

    /**
     * Checks that the model can be loaded the way an executor loads it (config, every weight
     * file's header and size, tokenizer, chat template) and digests it: a broken model fails
     * here, on the driver, before any Spark work.
     */
    public static ModelIdentity of(Path modelDir, WeightsDigest weights) {
        check(modelDir);
        MessageDigest all = sha256();
        try {
            for (String f : SMALL_FILES) {
                Path p = modelDir.resolve(f);
                if (Files.isRegularFile(p)) {
                    all.update((f + "=" + hex(sha256().digest(Files.readAllBytes(p))) + ";").getBytes(StandardCharsets.UTF_8));
                }
            }
            for (Path p : weightFiles(modelDir)) {
                String d = weights == WeightsDigest.FULL ? fullDigest(p) : sampledDigest(p);
                all.update((p.getFileName() + ":" + Files.size(p) + ":" + d + ";").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new InputException("cannot read model directory " + modelDir + ": " + e.getMessage(), e);
        }
        String digest = hex(all.digest((VERSION + "/" + weights).getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        return new ModelIdentity(modelDir.toAbsolutePath().normalize().getFileName().toString(), digest);
    }

    private static void check(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new InputException("model directory " + modelDir + " does not exist; set --model or kitty.model");
        }
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new InputException("model directory " + modelDir + " has no config.json (Hugging Face layout expected)");
        }
        try {
            Checkpoint.open(modelDir);
            Tokenizer.load(TokenizerFiles.tokenizerJson(modelDir));
            ChatTemplate.load(modelDir);
        } catch (RuntimeException e) {
            throw new InputException("model " + modelDir + " cannot be used: " + e.getMessage(), e);
        }
    }

    private static List<Path> weightFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    private static String fullDigest(Path p) throws IOException {
        MessageDigest blocks = sha256();
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
        ByteBuffer word = ByteBuffer.allocate(Long.BYTES);
        try (FileChannel ch = FileChannel.open(p)) {
            while (true) {
                buf.clear();
                int n;
                do { // fill the block: a short read must not move the block boundaries
                    n = ch.read(buf);
                } while (n >= 0 && buf.hasRemaining());
                buf.flip();
                if (!buf.hasRemaining()) {
                    break;
                }
                crc.reset();
                crc.update(buf);
                blocks.update(word.clear().putLong(crc.getValue()).array());
            }
        }
        return hex(blocks.digest());
    }

    private static String sampledDigest(Path p) throws IOException {
        MessageDigest d = sha256();
        try (FileChannel ch = FileChannel.open(p)) {
            long headerLen = read(ch, 0, Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ByteBuffer header = read(ch, Long.BYTES, (int) headerLen);
            d.update(header.duplicate());
            long dataStart = Long.BYTES + headerLen;
            List<long[]> ranges = new ArrayList<>();
            JsonNode root = JSON.readTree(StandardCharsets.UTF_8.decode(header).toString());
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                JsonNode offsets = it.next().getValue().path("data_offsets");
                if (offsets.isArray() && offsets.size() == 2) {
                    ranges.add(new long[]{offsets.get(0).asLong(), offsets.get(1).asLong()});
                }
            }
            ranges.sort((a, b) -> Long.compare(a[0], b[0]));
            for (long[] r : ranges) {
                int head = (int) Math.min(SAMPLE, r[1] - r[0]);
                d.update(read(ch, dataStart + r[0], head));
                d.update(read(ch, dataStart + r[1] - head, head));
            }
        }
        return hex(d.digest());
    }

    private static ByteBuffer read(FileChannel ch, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new IOException("unexpected end of file at byte " + (at + b.position()));
            }
        }
        return b.flip();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
