package kittyspark.runtime.backend.cuda.kitty;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped kitty_pages.ptx was built from the current kitty_pages.cu / .cuh: the build script
 * records their sha256 next to the PTX, and a source edited without rebuilding fails here.
 */
class KittyPtxManifestTest {
    static final Path SOURCES = Path.of("src/main/cuda");
    static final String FIX = "run gpu-runtime/src/main/cuda/build-kitty-ptx.sh (needs nvcc) and commit the PTX and kitty_pages.sha256";

    @Test
    void thePtxIsUpToDateWithItsSources() throws Exception {
        Map<String, String> manifest = manifest();
        assertEquals(Map.of("kitty_pages.cu", sha256(SOURCES.resolve("kitty_pages.cu")),
                "kitty_pages.cuh", sha256(SOURCES.resolve("kitty_pages.cuh"))), manifest,
                "kitty_pages.ptx is stale: " + FIX);
    }

    @Test
    void thePtxIsOnTheClasspathWithEveryKernelTheLaunchPlanNames() throws IOException {
        try (InputStream in = KittyPtxManifestTest.class.getResourceAsStream(KittyKernels.PTX_RESOURCE)) {
            assertNotNull(in, "missing " + KittyKernels.PTX_RESOURCE + ": " + FIX);
            String ptx = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            for (int d : new int[] {64, 128}) {
                for (int g : new int[] {1, 2, 4, 8}) {
                    KittyKernels k = new KittyKernels(d, g);
                    assertTrue(ptx.contains(".entry " + k.attention() + "("), "no " + k.attention());
                    assertTrue(ptx.contains(".entry " + k.attentionCpAsync() + "("), "no " + k.attentionCpAsync());
                }
            }
            for (boolean fp16 : new boolean[] {false, true}) {
                assertTrue(ptx.contains(".entry " + KittyKernels.quantizeKeys(fp16) + "("));
                assertTrue(ptx.contains(".entry " + KittyKernels.quantizeValues(fp16) + "("));
            }
            assertTrue(ptx.contains(".entry " + KittyKernels.COMBINE + "("));
        }
    }

    private static Map<String, String> manifest() throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        try (InputStream in = KittyPtxManifestTest.class.getResourceAsStream("/kittyspark/cuda/kitty_pages.sha256")) {
            assertNotNull(in, "missing kitty_pages.sha256: " + FIX);
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    String[] parts = line.trim().split("\\s+");
                    m.put(parts[1], parts[0]);
                }
            }
        }
        return m;
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
