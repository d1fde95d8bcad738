package kittyspark.pipeline.plan;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Hashes that must never change between runs, JVMs or Spark versions: they decide a row's
 * derived seed, whether its fidelity is checked, and its fingerprint. (String.hashCode and
 * Spark's hash functions are not promised to be stable, so we do not use them.)
 */
public final class StableHash {
    private StableHash() {
    }

    /** 64-bit FNV-1a over UTF-8, then a SplitMix64 finaliser for good low bits. */
    public static long hash64(long salt, String text) {
        long h = 0xcbf29ce484222325L ^ mix(salt);
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    static long mix(long z) {
        z += 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The seed of a row that gives none: depends only on the job seed and the row's key. */
    public static long derivedSeed(long jobSeed, String rowKey) {
        return hash64(jobSeed, "seed:" + rowKey);
    }

    /** Whether a row is in the fidelity sample: a fixed function of its id, so reruns check the same rows. */
    public static boolean inFidelitySample(String id, double fraction) {
        if (fraction <= 0.0 || id == null) {
            return false;
        }
        if (fraction >= 1.0) {
            return true;
        }
        long h = hash64(0x6b697474L, "fidelity:" + id) >>> 11; // 53 uniform bits
        return h * 0x1.0p-53 < fraction;
    }

    /** Hex SHA-256 of the text, cut to 32 hex digits (128 bits is plenty for change detection). */
    public static String sha256Hex(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] d = md.digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
