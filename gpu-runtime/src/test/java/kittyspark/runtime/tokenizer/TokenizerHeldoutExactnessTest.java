package kittyspark.runtime.tokenizer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The specification of exactness: on the 60 public held-out documents the tokenizer gives the
 * ids Hugging Face gave ({@code heldout-public-hfref.json}, first 2048 ids of each document) and
 * decoding gives back each document's text.
 */
class TokenizerHeldoutExactnessTest {
    private static final int REFERENCE_PREFIX = 2048;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Tokenizer tokenizer;
    private static List<JsonNode> documents;
    private static Map<String, int[]> referenceIds;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(TestFiles.demoTokenizerJson());
        documents = new ArrayList<>();
        for (String line : new String(TokenizerFiles.open(TestFiles.sharedEvalFile("heldout-public.jsonl")).readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                documents.add(JSON.readTree(line));
            }
        }
        referenceIds = new HashMap<>();
        for (JsonNode doc : JSON.readTree(TokenizerFiles.open(TestFiles.sharedEvalFile("heldout-public-hfref.json"))).path("docs")) {
            int[] ids = new int[doc.path("token_ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = doc.path("token_ids").get(i).asInt();
            }
            referenceIds.put(doc.path("id").asText(), ids);
        }
        assertEquals(60, documents.size(), "public held-out documents");
    }

    @Test
    void encodeGivesHuggingFaceIdsForEveryHeldoutDocument() {
        for (JsonNode doc : documents) {
            String id = doc.path("id").asText();
            int[] expected = referenceIds.get(id);
            int[] ids = tokenizer.encode(doc.path("text").asText());
            int[] prefix = Arrays.copyOf(ids, Math.min(ids.length, REFERENCE_PREFIX));
            assertEquals(expected.length, prefix.length, () -> "token count of document " + id);
            assertArrayEquals(expected, prefix, () -> "token ids of document " + id + " (" + doc.path("path").asText()
                    + "), first difference at " + Arrays.mismatch(expected, prefix));
        }
    }

    @Test
    void decodeOfEncodeGivesBackEveryHeldoutDocument() {
        for (JsonNode doc : documents) {
            String text = doc.path("text").asText();
            assertEquals(text, tokenizer.decode(tokenizer.encode(text)), () -> "round trip of " + doc.path("id").asText());
        }
    }
}
