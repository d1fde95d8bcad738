package kittyspark.runtime.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.kvquant.Fp16;

/**
 * Writes a {@code .safetensors} file from fp32 data, stored as bf16, f16 or f32. Used for
 * synthetic checkpoints (tests, benchmarks of model shapes whose weights cannot travel).
 */
public final class SafetensorsWriter {
    private record Entry(DType dtype, long[] shape, float[] data) {
    }

    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    public SafetensorsWriter add(String name, DType dtype, float[] data, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": " + data.length + " values for shape of " + n);
        }
        tensors.put(name, new Entry(dtype, shape.clone(), data));
        return this;
    }

    public void write(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            long bytes = (long) t.data.length * t.dtype.bytes();
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", t.dtype.name());
            var shape = info.putArray("shape");
            for (long d : t.shape) {
                shape.add(d);
            }
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
        byte[] headerBytes = new byte[h.length + pad];
        System.arraycopy(h, 0, headerBytes, 0, h.length);
        java.util.Arrays.fill(headerBytes, h.length, headerBytes.length, (byte) ' ');
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length).array());
            out.write(headerBytes);
            for (Entry t : tensors.values()) {
                ByteBuffer b = ByteBuffer.allocate(t.data.length * t.dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : t.data) {
                    switch (t.dtype) {
                        case BF16 -> b.putShort(toBf16(v));
                        case F16 -> b.putShort(kittyspark.kvquant.Fp16.fromFloat(v));
                        case F32 -> b.putFloat(v);
                    }
                }
                out.write(b.array());
            }
        }
    }

    /** fp32 to bf16, round to nearest even (as torch does). */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) 0x7fc0;
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
