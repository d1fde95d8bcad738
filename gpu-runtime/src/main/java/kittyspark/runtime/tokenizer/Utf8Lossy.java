package kittyspark.runtime.tokenizer;

/**
 * UTF-8 bytes to text the way Rust's {@code String::from_utf8_lossy} (and so Hugging Face's
 * decoders) does it: each maximal subpart of an ill-formed sequence becomes one U+FFFD, the
 * Unicode Standard's recommended practice (chapter 3, "U+FFFD Substitution of Maximal
 * Subparts"). Java's own decoder differs on some inputs, e.g. it turns the encoded surrogate
 * {@code ED A0 80} into one U+FFFD where Rust gives three.
 */
final class Utf8Lossy {
    private static final char REPLACEMENT = '\uFFFD';

    private Utf8Lossy() {
    }

    static String decode(byte[] b, int length) {
        StringBuilder out = new StringBuilder(length);
        int i = 0;
        while (i < length) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80; // the allowed range of the second byte (Table 3-7 of the Unicode Standard)
            int hi = 0xBF;
            int cp;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                cp = b0 & 0x1F;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                cp = b0 & 0x0F;
                if (b0 == 0xE0) {
                    lo = 0xA0;
                } else if (b0 == 0xED) {
                    hi = 0x9F;
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                cp = b0 & 0x07;
                if (b0 == 0xF0) {
                    lo = 0x90;
                } else if (b0 == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                out.append(REPLACEMENT); // a continuation byte without a lead, or a byte never used in UTF-8
                i++;
                continue;
            }
            int j = i + 1;
            int got = 0;
            while (got < need && j < length) {
                int bj = b[j] & 0xFF;
                boolean ok = got == 0 ? bj >= lo && bj <= hi : bj >= 0x80 && bj <= 0xBF;
                if (!ok) {
                    break;
                }
                cp = (cp << 6) | (bj & 0x3F);
                got++;
                j++;
            }
            if (got == need) {
                out.appendCodePoint(cp);
            } else {
                out.append(REPLACEMENT); // the well-formed start of a sequence that stops short counts once
            }
            i = j;
        }
        return out.toString();
    }
}
