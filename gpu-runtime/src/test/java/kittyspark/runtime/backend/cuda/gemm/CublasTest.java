package kittyspark.runtime.backend.cuda.gemm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class CublasTest {
    @Test
    void withoutCuda13sLibrariesCublasIsUnavailableWithAReasonAndLoadingIsTriedOnce() {
        assumeFalse(machineHasCublas13(), "this machine has libcublas.so.13");
        String reason = Cublas.loadFailure();
        assertNotNull(reason, "the bindings cannot load without libcublas.so.13");
        assertTrue(reason.contains("libcublas.so.13"), reason);
        assertSame(reason, Cublas.loadFailure(), "the first attempt's answer is kept");
        Cublas.Availability a = Cublas.open(null, null, 0);
        assertTrue(!a.available() && a.reason().equals(reason), "no device touched: " + a);
    }

    @Test
    void alignmentIsTheLargestPowerOfTwoUpTo256DividingEveryAddress() {
        assertEquals(256, Cublas.alignment(0, 1L << 40, 4096));
        assertEquals(16, Cublas.alignment(4096, 4096 + 16));
        assertEquals(4, Cublas.alignment(1L << 20, (1L << 20) + 4 * 7), "an fp32 row offset of 7");
        assertEquals(256, Cublas.alignment());
    }

    /** libcublas.so.13 where the dynamic linker or a CUDA install would find it. */
    private static boolean machineHasCublas13() {
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64",
                "/usr/local/cuda/targets/x86_64-linux/lib"}) {
            if (Files.exists(Path.of(dir, "libcublas.so.13"))) {
                return true;
            }
        }
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String dir : ld.split(":")) {
                if (!dir.isEmpty() && Files.exists(Path.of(dir, "libcublas.so.13"))) {
                    return true;
                }
            }
        }
        try (Stream<Path> cudas = Files.list(Path.of("/usr/local"))) {
            return cudas.anyMatch(p -> p.getFileName().toString().startsWith("cuda-")
                    && Files.exists(p.resolve("lib64/libcublas.so.13")));
        } catch (IOException e) {
            return false;
        }
    }
}
