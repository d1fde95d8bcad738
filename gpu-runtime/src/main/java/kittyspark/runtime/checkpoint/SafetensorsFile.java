package kittyspark.runtime.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming
 * each tensor's dtype, shape and byte range, then the data. Tensors are memory-mapped.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest mapped chunk; Java 17 buffers are int-indexed. */
    static final long MAX_CHUNK_BYTES = 1L << 30;
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final FileChannel channel;
    private final long maxChunkBytes;
    private final Map<String, WeightTensor> tensors = new LinkedHashMap<>();

    private SafetensorsFile(Path path, FileChannel channel, long maxChunkBytes) {
        this.path = path;
        this.channel = channel;
        this.maxChunkBytes = maxChunkBytes;
    }

    public static SafetensorsFile open(Path path) {
        return open(path, MAX_CHUNK_BYTES);
    }

    /** Opens with mapped chunks of at most {@code maxChunkBytes} (whole rows each). */
    static SafetensorsFile open(Path path, long maxChunkBytes) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot open weights file: " + e.getMessage(), e);
        }
        SafetensorsFile f = new SafetensorsFile(path, ch, maxChunkBytes);
        try {
            f.readHeader();
        } catch (IOException | RuntimeException e) {
            f.close();
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            throw new CheckpointException(path + ": corrupt safetensors file: " + e.getMessage(), e);
        }
        return f;
    }

    private void readHeader() throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new CheckpointException(path + ": corrupt safetensors file: only " + size + " bytes");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
            throw new CheckpointException(path + ": corrupt safetensors header length " + headerLen
                    + " (file is " + size + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        while (hb.hasRemaining()) {
            if (channel.read(hb, 8 + hb.position()) < 0) {
                throw new CheckpointException(path + ": truncated safetensors header");
            }
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointException(path + ": corrupt safetensors header (not JSON): " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(path + ": corrupt safetensors header (not a JSON object)");
        }
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            tensors.put(e.getKey(), mapTensor(e.getKey(), e.getValue(), dataStart, dataLen));
        }
    }

    private WeightTensor mapTensor(String name, JsonNode info, long dataStart, long dataLen) throws IOException {
        String where = path + ": tensor " + name;
        DType dtype = DType.fromSafetensors(info.path("dtype").asText());
        if (dtype == null) {
            throw new CheckpointException(where + ": unsupported dtype " + info.path("dtype").asText()
                    + "; supported: BF16, F16, F32");
        }
        JsonNode shapeNode = info.path("shape");
        JsonNode offsets = info.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new CheckpointException(where + ": corrupt header entry " + info);
        }
        long[] shape = new long[shapeNode.size()];
        long elems = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new CheckpointException(where + ": negative dimension in shape " + shapeNode);
            }
            elems = Math.multiplyExact(elems, shape[i]);
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen || end - begin != elems * dtype.bytes()) {
            throw new CheckpointException(where + ": corrupt data offsets " + offsets + " for shape "
                    + shapeNode + " " + dtype + " (data section is " + dataLen + " bytes)");
        }
        long rows = shape.length == 0 ? 1 : shape[0];
        long rowBytes = rows == 0 ? 0 : (end - begin) / rows;
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, rowBytes == 0 ? rows : maxChunkBytes / rowBytes));
        List<ByteBuffer> chunks = new ArrayList<>();
        for (long r = 0; r < rows || chunks.isEmpty(); r += rowsPerChunk) {
            long n = Math.min(rowsPerChunk, rows - r);
            chunks.add(channel.map(FileChannel.MapMode.READ_ONLY, dataStart + begin + r * rowBytes, Math.max(0, n * rowBytes)));
            if (rows == 0) {
                break;
            }
        }
        return new WeightTensor(name, dtype, shape, chunks, Math.max(1, rowsPerChunk));
    }

    public Path path() {
        return path;
    }

    public Map<String, WeightTensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        try {
            channel.close(); // mapped buffers stay valid after the channel closes
        } catch (IOException ignored) {
            // nothing to do: the mapping is what matters
        }
    }
}
