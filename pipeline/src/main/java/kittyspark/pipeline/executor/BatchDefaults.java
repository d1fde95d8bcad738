package kittyspark.pipeline.executor;

import kittyspark.runtime.kv.KvSettings;

/**
 * The engine's max batch when {@code kitty.engine.max-batch} is 0, from the device and KV mode.
 * It is an upper bound only: the engine admits no more sequences than the exact KV bytes of the
 * rows' shape allow ({@link AdmissionGate} follows that), so the bound is set high enough not
 * to be what limits a GPU: an H200 holds about 570 Kitty sequences of 8K tokens after an 8B
 * model's weights, and fp16 pages about a fifth of that.
 */
public final class BatchDefaults {
    public static final int CPU = 16;
    public static final int CUDA_FP16 = 256;
    public static final int CUDA_QUANTIZED = 640;

    private BatchDefaults() {
    }

    /** {@code configured} if positive, else the default of {@code device} ("cpu", "cuda:N") and {@code kv}. */
    public static int of(int configured, String device, KvSettings kv) {
        if (configured > 0) {
            return configured;
        }
        if (device.equals("cpu")) {
            return CPU;
        }
        return kv.quantized() ? CUDA_QUANTIZED : CUDA_FP16;
    }
}
