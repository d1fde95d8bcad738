package kittyspark.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import kittyspark.runtime.testing.TestData;
import kittyspark.runtime.testing.TinyCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsEachDtype() throws Exception {
        float[] data = {1.0f, -2.5f, 0.15625f, 3.0e-3f, 65504f, -0.0f};
        Path f = tmp.resolve("t.safetensors");
        new SafetensorsWriter()
                .add("a.bf16", DType.BF16, data, 2, 3)
                .add("b.f16", DType.F16, data, 3, 2)
                .add("c.f32", DType.F32, data, 6)
                .write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            WeightTensor f32 = st.tensors().get("c.f32");
            assertArrayEquals(data, f32.toFloats());
            assertEquals(6, f32.rows());
            WeightTensor f16 = st.tensors().get("b.f16");
            assertArrayEquals(new long[] {3, 2}, f16.shape());
            assertArrayEquals(data, f16.toFloats(), 1e-3f * 65504f);
            float[] bf = st.tensors().get("a.bf16").toFloats();
            for (int i = 0; i < data.length; i++) {
                assertEquals(data[i], bf[i], Math.abs(data[i]) / 128f, "bf16 keeps 8 significant bits");
            }
        }
    }

    @Test
    void aTensorMappedInSeveralChunksReadsLikeOne() throws Exception {
        float[] data = new float[7 * 5];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f - 3f;
        }
        Path f = tmp.resolve("chunks.safetensors");
        new SafetensorsWriter().add("w", DType.F32, data, 7, 5).write(f);
        // 2 rows (40 bytes) per chunk: 4 chunks, standing in for the 2 GiB limit of one mapping.
        try (SafetensorsFile st = SafetensorsFile.open(f, 48)) {
            WeightTensor w = st.tensors().get("w");
            assertEquals(4, w.rawChunks().size());
            assertArrayEquals(data, w.toFloats());
        }
    }

    @Test
    void readsTheShardedDemoCheckpoint() {
        Checkpoint c = Checkpoint.open(TestData.demoModel());
        WeightTensor embed = c.tensor("model.embed_tokens.weight");
        assertEquals(DType.BF16, embed.dtype());
        assertArrayEquals(new long[] {8192, 384}, embed.shape());
        assertTrue(c.fileOf("model.layers.5.mlp.down_proj.weight").getFileName().toString().startsWith("model-0000"));
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Checkpoint c = Checkpoint.open(TinyCheckpoint.write(tmp.resolve("m"), true, 1));
        CheckpointException e = assertThrows(CheckpointException.class, () -> c.tensor("model.layers.9.mlp.up_proj.weight"));
        assertTrue(e.getMessage().contains("model.layers.9.mlp.up_proj.weight"), e.getMessage());
    }

    @Test
    void corruptHeaderLengthIsReportedWithTheFile() throws Exception {
        Path f = tmp.resolve("bad.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
    }

    @Test
    void offsetsThatDisagreeWithTheShapeNameTheTensor() throws Exception {
        Path f = tmp.resolve("short.safetensors");
        byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Files.write(f, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().contains("tensor w"), e.getMessage());
    }

    @Test
    void unsupportedDtypeIsNamed() throws Exception {
        Path f = tmp.resolve("i8.safetensors");
        byte[] header = "{\"q\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 2).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Files.write(f, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().contains("I8") && e.getMessage().contains("tensor q"), e.getMessage());
    }

    @Test
    void missingShardIsNamed() throws Exception {
        Path dir = TinyCheckpoint.write(tmp.resolve("s"), true, 2);
        Files.move(dir.resolve("model.safetensors"), dir.resolve("model-00001-of-00001.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"model.norm.weight\":\"model-00002-of-00002.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
    }
}
