package kittyspark.runtime.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import kittyspark.runtime.testing.TestData;

/** The committed PTX is built from the committed CUDA sources (manifest of their sha256). */
class PtxManifestTest {
    private static final Path CUDA = TestData.repoRoot().resolve("gpu-runtime/src/main/cuda");
    private static final Path PTX = TestData.repoRoot().resolve("gpu-runtime/src/main/resources/kittyspark/cuda");

    @Test
    void everyCudaSourceMatchesTheManifestTheCommittedPtxWasBuiltFrom() throws Exception {
        Map<String, String> manifest = new TreeMap<>();
        for (String line : Files.readAllLines(PTX.resolve("manifest.sha256"))) {
            String[] f = line.trim().split("\\s+");
            manifest.put(f[1], f[0]);
        }
        Map<String, String> sources = new TreeMap<>();
        try (Stream<Path> s = Files.list(CUDA)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).toList()) {
                sources.put(p.getFileName().toString(), sha256(p));
            }
        }
        for (Map.Entry<String, String> e : sources.entrySet()) {
            if (!e.getValue().equals(manifest.get(e.getKey()))) {
                fail(e.getKey() + " changed since the PTX was built; run gpu-runtime/src/main/cuda/build-ptx.sh and commit "
                        + "gpu-runtime/src/main/resources/kittyspark/cuda");
            }
        }
        assertEquals(sources.keySet(), manifest.keySet(), "manifest lists exactly the CUDA sources; rebuild with build-ptx.sh");
    }

    @Test
    void everyModuleTheBackendLoadsHasItsPtx() {
        for (String m : Kernels.MODULES) {
            assertTrue(Files.isRegularFile(PTX.resolve(m + ".ptx")), m + ".ptx missing; run build-ptx.sh");
            assertTrue(Files.isRegularFile(CUDA.resolve(m + ".cu")), m + ".cu missing");
        }
        try (Stream<Path> s = Files.list(CUDA)) {
            List<String> cu = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).sorted().toList();
            assertEquals(Kernels.MODULES.stream().sorted().toList(), cu, "Kernels.MODULES lists every .cu");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void thePtxTargetsHopperAndIsLoadableText() throws Exception {
        String ptx = new String(Kernels.ptx("gemm"), java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".target sm_90"), "built with -arch=sm_90");
        assertTrue(ptx.contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"), "tensor-core GEMM");
        assertEquals(0, ptx.charAt(ptx.length() - 1), "NUL-terminated for cuModuleLoadData");
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
