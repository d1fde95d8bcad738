package kittyspark.checks.bench;

import java.nio.file.Path;

import kittyspark.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SyntheticTokenizerTest {
    @TempDir
    Path dir;

    @Test
    void everyIdOfALargeVocabularyDecodesSoAnEngineCanFinishAnyGeneration() throws Exception {
        Tokenizer t = SyntheticTokenizer.write(dir.resolve("tokenizer.json"), 128256);
        assertEquals(128256, t.vocabSize());
        assertEquals("t128255t256", t.decode(new int[] {128255, 256}));
    }

    @Test
    void theFirst256IdsAreTheBytesSoTextRoundTrips() throws Exception {
        Tokenizer t = SyntheticTokenizer.write(dir.resolve("tokenizer.json"), 300);
        String text = "def f(x):\n    return x ** 2  # ünïcode";
        assertEquals(text, t.decode(t.encode(text)));
    }
}
