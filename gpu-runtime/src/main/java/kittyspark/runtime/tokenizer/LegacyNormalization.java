package kittyspark.runtime.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;

/**
 * Unicode normalization as Hugging Face tokenizers does it: its normalizers use Unicode 9.0
 * tables, so a character assigned later is, to them, an unassigned character that normalization
 * leaves alone and that nothing combines or reorders across. Java's {@link Normalizer} knows later
 * characters (Unicode 13 in Java 17); the ones that take part in normalization are listed in
 * {@value #RESOURCE}. Text is normalized by Java in the stretches between them and those
 * characters are kept as they are, which is what normalizing with Unicode 9.0 data gives.
 */
final class LegacyNormalization {
    static final String RESOURCE = "unicode-post-9.0-normalization-code-points.txt";

    private static final int[] OPAQUE = readCodePoints();
    private static final int SMALLEST_OPAQUE = OPAQUE.length == 0 ? Integer.MAX_VALUE : OPAQUE[0];

    private LegacyNormalization() {
    }

    /** {@code text} in {@code form}, computed with Unicode 9.0 normalization data. */
    static String normalize(String text, Normalizer.Form form) {
        int n = text.length();
        int pieceStart = 0;
        StringBuilder out = null;
        for (int i = 0; i < n; ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (cp >= SMALLEST_OPAQUE && Arrays.binarySearch(OPAQUE, cp) >= 0) {
                if (out == null) {
                    out = new StringBuilder(n + 16);
                }
                out.append(javaNormalize(text.substring(pieceStart, i), form)).appendCodePoint(cp);
                pieceStart = next;
            }
            i = next;
        }
        if (out == null) {
            return javaNormalize(text, form);
        }
        return out.append(javaNormalize(text.substring(pieceStart), form)).toString();
    }

    static boolean isOpaque(int cp) {
        return cp >= SMALLEST_OPAQUE && Arrays.binarySearch(OPAQUE, cp) >= 0;
    }

    private static String javaNormalize(String piece, Normalizer.Form form) {
        // isNormalized is much cheaper than normalize and true for almost all real text.
        return piece.isEmpty() || Normalizer.isNormalized(piece, form) ? piece : Normalizer.normalize(piece, form);
    }

    private static int[] readCodePoints() {
        try (InputStream in = LegacyNormalization.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the tokenizer package");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            return r.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .mapToInt(l -> Integer.parseInt(l.split("\\s+")[0], 16)).sorted().toArray();
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + ": " + e.getMessage(), e);
        }
    }
}
