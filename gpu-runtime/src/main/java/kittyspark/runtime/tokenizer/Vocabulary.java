package kittyspark.runtime.tokenizer;

import java.util.Map;
import java.util.OptionalInt;

/**
 * Ids and what they stand for: the bytes each id decodes to, the id of each token string
 * (added tokens by their content, model tokens by their byte-level spelling), and which ids
 * are special. Immutable.
 */
final class Vocabulary {
    private final byte[][] bytesById;
    private final Map<String, Integer> idByToken;
    private final boolean[] special;

    Vocabulary(byte[][] bytesById, Map<String, Integer> idByToken, boolean[] special) {
        this.bytesById = bytesById;
        this.idByToken = Map.copyOf(idByToken);
        this.special = special;
    }

    int size() {
        return bytesById.length;
    }

    /** The bytes of one id; throws if the id is out of range or unassigned. */
    byte[] bytesOf(int id) {
        byte[] b = id >= 0 && id < bytesById.length ? bytesById[id] : null;
        if (b == null) {
            throw new TokenizerException("token id " + id + " is not in the vocabulary (size " + bytesById.length + ")");
        }
        return b;
    }

    OptionalInt idOf(String token) {
        Integer id = idByToken.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }
}
