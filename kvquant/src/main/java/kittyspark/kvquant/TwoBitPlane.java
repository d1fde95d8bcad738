package kittyspark.kvquant;

/**
 * 2-bit codes packed four to a byte: element {@code i} of a row lives in byte {@code i / 4}
 * at bits {@code 2 * (i % 4)}. Key planes pack a channel's tokens; value pages pack a token's
 * channels.
 */
public final class TwoBitPlane {
    private TwoBitPlane() {
    }

    public static void put(byte[] buf, int rowOffset, int i, int code) {
        int at = rowOffset + (i >>> 2);
        int shift = (i & 3) << 1;
        buf[at] = (byte) ((buf[at] & ~(3 << shift)) | ((code & 3) << shift));
    }

    public static int get(byte[] buf, int rowOffset, int i) {
        return (buf[rowOffset + (i >>> 2)] >>> ((i & 3) << 1)) & 3;
    }

    public static void putFp16(byte[] buf, int at, short bits) {
        buf[at] = (byte) bits;
        buf[at + 1] = (byte) (bits >>> 8);
    }

    public static short getFp16(byte[] buf, int at) {
        return (short) ((buf[at] & 0xff) | (buf[at + 1] & 0xff) << 8);
    }
}
