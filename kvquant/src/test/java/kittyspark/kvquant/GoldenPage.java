package kittyspark.kvquant;

import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A golden page vector written by {@code golden/make_golden.py}, an independent implementation of the spec. */
record GoldenPage(String kind, int pageSize, int headDim, int boosted, float[] input, int[][] codes, byte[] page) {

    static GoldenPage load(String name) throws IOException {
        try (InputStream in = GoldenPage.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource golden/" + name);
            }
            JsonNode j = new ObjectMapper().readTree(in);
            int p = j.get("P").asInt();
            int d = j.get("D").asInt();
            float[] input = new float[p * d];
            for (int i = 0; i < input.length; i++) {
                input[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(j.get("input_f32").get(i).asText(), 16));
            }
            int[][] codes = new int[p][d];
            for (int t = 0; t < p; t++) {
                for (int c = 0; c < d; c++) {
                    codes[t][c] = j.get("codes").get(t).get(c).asInt();
                }
            }
            return new GoldenPage(j.get("kind").asText(), p, d, j.get("B").asInt(), input, codes,
                    HexFormat.of().parseHex(j.get("page").asText()));
        }
    }
}
