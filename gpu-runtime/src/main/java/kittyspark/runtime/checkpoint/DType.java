package kittyspark.runtime.checkpoint;

/** Weight element types we read, with their safetensors names. */
public enum DType {
    BF16("BF16", 2),
    F16("F16", 2),
    F32("F32", 4);

    private final String safetensorsName;
    private final int bytes;

    DType(String safetensorsName, int bytes) {
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public static DType fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        return null;
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
