package kittyspark.checks.cuda;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * counter-based generator of the device sampler (sampling.cu). This Java mirror pins the
 * device stream down in CPU tests: a request's draw for token i is a pure function of
 * (seed, i).
 */
public final class Philox {
    private Philox() {
    }

    /** One block: counter c0..c3, key k0 k1. */
    public static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                k0 += 0x9E3779B9;
                k1 += 0xBB67AE85;
            }
            long p0 = (c0 & 0xffffffffL) * 0xD2511F53L;
            long p1 = (c2 & 0xffffffffL) * 0xCD9E8D57L;
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0;
            int n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** The uniform in [0, 1) the device sampler draws for (seed, tokenIndex): 24 bits of the first word. */
    public static float uniform(long seed, int tokenIndex) {
        int x = block(tokenIndex, 0, 0, 0, (int) seed, (int) (seed >>> 32))[0];
        return (x >>> 8) * (1.0f / 16777216.0f);
    }
}
