package kittyspark.runtime.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Prints single-thread encode throughput over the 60 public held-out documents (a measurement to
 * read, not a test). Run with the test classpath; args: [tokenizer.json] [heldout-public.jsonl].
 */
public final class TokenizerThroughputMain {
    private TokenizerThroughputMain() {
    }

    public static void main(String[] args) throws Exception {
        Path tokenizerJson = args.length > 0 ? Path.of(args[0]) : TestFiles.demoTokenizerJson();
        Path docs = args.length > 1 ? Path.of(args[1]) : TestFiles.sharedEvalFile("heldout-public.jsonl");
        ObjectMapper json = new ObjectMapper();
        List<String> texts = new ArrayList<>();
        for (String line : new String(TokenizerFiles.open(docs).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                texts.add(json.readTree(line).path("text").asText());
            }
        }
        long t0 = System.nanoTime();
        Tokenizer tokenizer = Tokenizer.load(tokenizerJson);
        System.out.printf("load: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        for (int round = 1; round <= 6; round++) {
            // Round 1 is cold (JIT and the pre-token cache); later rounds are warm.
            long tokens = 0;
            long chars = 0;
            long start = System.nanoTime();
            for (String text : texts) {
                tokens += tokenizer.encode(text).length;
                chars += text.length();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("round %d: %d docs, %d chars, %d tokens, %.1f ms, %.2f M tokens/s%n",
                    round, texts.size(), chars, tokens, seconds * 1e3, tokens / seconds / 1e6);
        }
    }
}
