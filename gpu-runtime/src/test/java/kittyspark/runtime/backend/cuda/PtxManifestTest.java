package kittyspark.runtime.backend.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The committed PTX of the backend's modules is built from the committed CUDA sources (manifest of their sha256). */
class PtxManifestTest {
    private static final Path CUDA = TestData.repoRoot().resolve("gpu-runtime/src/main/cuda");
    private static final Path PTX = TestData.repoRoot().resolve("gpu-runtime/src/main/resources/kittyspark/cuda");

    private static Map<String, String> manifest(Path file) throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                String[] f = line.trim().split("\\s+");
                m.put(f[1], f[0]);
            }
        }
        return m;
    }

    @Test
    void everySourceInTheManifestIsTheOneTheCommittedPtxWasBuiltFrom() throws Exception {
        for (Map.Entry<String, String> e : manifest(PTX.resolve("manifest.sha256")).entrySet()) {
            Path src = CUDA.resolve(e.getKey());
            assertTrue(Files.isRegularFile(src), e.getKey() + " is in manifest.sha256 but not in " + CUDA);
            if (!sha256(src).equals(e.getValue())) {
                fail(e.getKey() + " changed since the PTX was built; run gpu-runtime/src/main/cuda/build-ptx.sh and commit "
                        + "gpu-runtime/src/main/resources/kittyspark/cuda");
            }
        }
    }

    @Test
    void everyModuleTheBackendLoadsHasItsSourcePtxAndManifestEntry() throws Exception {
        Map<String, String> m = manifest(PTX.resolve("manifest.sha256"));
        for (String module : Kernels.MODULES) {
            assertTrue(Files.isRegularFile(PTX.resolve(module + ".ptx")), module + ".ptx missing; run build-ptx.sh");
            assertTrue(m.containsKey(module + ".cu"), module + ".cu missing from manifest.sha256; run build-ptx.sh");
        }
    }

    @Test
    void everyCudaSourceIsCoveredByAManifest() throws Exception {
        Set<String> covered = new TreeSet<>();
        try (Stream<Path> s = Files.list(PTX)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".sha256")).toList()) {
                covered.addAll(manifest(p).keySet());
            }
        }
        try (Stream<Path> s = Files.list(CUDA)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).toList()) {
                assertTrue(covered.contains(p.getFileName().toString()), p.getFileName()
                        + " is in no PTX manifest: a kernel source must be built by build-ptx.sh (or its own script)");
            }
        }
    }

    @Test
    void thePtxTargetsHopperAndIsLoadableText() {
        String ptx = new String(Kernels.ptx("gemm"), java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".target sm_90"), "built with -arch=sm_90");
        assertTrue(ptx.contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"), "tensor-core GEMM");
        assertEquals(0, ptx.charAt(ptx.length() - 1), "NUL-terminated for cuModuleLoadData");
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
