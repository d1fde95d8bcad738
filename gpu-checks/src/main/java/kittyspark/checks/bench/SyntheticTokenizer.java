package kittyspark.checks.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.tokenizer.Tokenizer;

/**
 * A byte-level BPE tokenizer.json with a vocabulary of any size (the 256 bytes, then tokens
 * "t256", "t257", ...) and no merges: what a synthetic model's engine needs to turn any
 * generated id into text.
 */
public final class SyntheticTokenizer {
    private SyntheticTokenizer() {
    }

    /** GPT-2's byte-level alphabet: printable bytes stand for themselves, the others for 256, 257, ... */
    static char byteChar(int b) {
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) {
            return (char) b;
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            if (!((i >= 33 && i <= 126) || (i >= 161 && i <= 172) || (i >= 174 && i <= 255))) {
                n++;
            }
        }
        return (char) (256 + n);
    }

    public static Tokenizer write(Path file, int vocab) throws IOException {
        JsonNodeFactory n = JsonNodeFactory.instance;
        ObjectNode v = n.objectNode();
        for (int b = 0; b < 256; b++) {
            v.put(String.valueOf(byteChar(b)), b);
        }
        for (int i = 256; i < vocab; i++) {
            v.put("t" + i, i);
        }
        ObjectNode model = n.objectNode().put("type", "BPE");
        model.set("vocab", v);
        model.set("merges", n.arrayNode());
        ObjectNode root = n.objectNode();
        root.set("added_tokens", n.arrayNode());
        root.set("normalizer", n.nullNode());
        root.set("pre_tokenizer", n.objectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true));
        root.set("decoder", n.objectNode().put("type", "ByteLevel"));
        root.set("model", model);
        Files.writeString(file, new ObjectMapper().writeValueAsString(root));
        return Tokenizer.load(file);
    }
}
