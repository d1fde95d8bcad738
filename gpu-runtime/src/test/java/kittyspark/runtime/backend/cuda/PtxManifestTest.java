package kittyspark.runtime.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import kittyspark.runtime.backend.cuda.driver.Kernels;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
import kittyspark.runtime.backend.cuda.kitty.KittyKernels;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The committed PTX is built from the committed CUDA sources: one manifest (build-ptx.sh) holds
 * the sha256 of every .cu and .cuh, so a source edited without rebuilding fails here, and every
 * kernel the Java side launches by name is in the PTX it loads.
 */
class PtxManifestTest {
    private static final Path CUDA = TestData.repoRoot().resolve("gpu-runtime/src/main/cuda");
    private static final Path PTX = TestData.repoRoot().resolve("gpu-runtime/src/main/resources/kittyspark/cuda");
    private static final String FIX = "run gpu-runtime/src/main/cuda/build-ptx.sh (needs nvcc) and commit "
            + "gpu-runtime/src/main/resources/kittyspark/cuda";

    private static Map<String, String> manifest() throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (String line : Files.readAllLines(PTX.resolve("manifest.sha256"))) {
            if (!line.isBlank()) {
                String[] f = line.trim().split("\\s+");
                m.put(f[1], f[0]);
            }
        }
        return m;
    }

    private static List<String> sources(String suffix) throws IOException {
        try (Stream<Path> s = Files.list(CUDA)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void theManifestListsEverySourceAndEachIsTheOneThePtxWasBuiltFrom() throws Exception {
        Map<String, String> m = manifest();
        List<String> all = new ArrayList<>(sources(".cu"));
        all.addAll(sources(".cuh"));
        assertEquals(new TreeSet<>(all), m.keySet(), "the manifest must cover exactly the sources in " + CUDA + ": " + FIX);
        for (Map.Entry<String, String> e : m.entrySet()) {
            if (!sha256(CUDA.resolve(e.getKey())).equals(e.getValue())) {
                fail(e.getKey() + " changed since the PTX was built; " + FIX);
            }
        }
    }

    @Test
    void everyModuleTheBackendLoadsIsASourceWithItsPtx() throws Exception {
        List<String> modules = new ArrayList<>(Kernels.MODULES);
        modules.addAll(KittyKernels.MODULES);
        assertEquals(new TreeSet<>(sources(".cu")), new TreeSet<>(modules.stream().map(m -> m + ".cu").toList()),
                "every .cu is a module the backend loads (Kernels.MODULES, KittyKernels.MODULES), and the other way round");
        for (String module : modules) {
            assertTrue(Files.isRegularFile(PTX.resolve(module + ".ptx.xz")), module + ".ptx.xz missing: " + FIX);
        }
    }

    @Test
    void theKittyPtxHasEveryKernelTheLaunchPlanNames() throws Exception {
        String attention = ptx("kitty_attention");
        for (int d : new int[] {64, 128}) {
            for (int g : new int[] {1, 2, 4, 8}) {
                KittyKernels k = new KittyKernels(d, g);
                for (KittyAttentionVariant v : KittyAttentionVariant.values()) {
                    assertTrue(attention.contains(".entry " + k.attention(v) + "("), "no " + k.attention(v) + ": " + FIX);
                }
            }
        }
        assertTrue(attention.contains(".entry " + KittyKernels.COMBINE + "("));
        String quantize = ptx("kitty_quantize");
        for (boolean fp16 : new boolean[] {false, true}) {
            assertTrue(quantize.contains(".entry " + KittyKernels.quantizeKeys(fp16) + "("));
            assertTrue(quantize.contains(".entry " + KittyKernels.quantizeValues(fp16) + "("));
        }
    }

    @Test
    void thePtxTargetsHopperAndIsLoadableText() {
        String gemm = ptx("gemm");
        assertTrue(gemm.contains(".target sm_90"), "built with -arch=sm_90");
        assertTrue(gemm.contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"), "tensor-core GEMM");
        assertTrue(ptx("kitty_attention").contains("mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32"), "integer Kitty products");
        byte[] loaded = Kernels.ptx("gemm");
        assertEquals(0, loaded[loaded.length - 1], "NUL-terminated for cuModuleLoadData");
    }

    private static String ptx(String module) {
        byte[] b = Kernels.ptx(module);
        return new String(b, 0, b.length - 1, StandardCharsets.US_ASCII);
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
