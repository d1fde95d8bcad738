package kittyspark.checks.probe;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CI machines have no NVIDIA driver: there the probe must fail cleanly, as a failed step, not a crash. */
class JCudaProbeTest {
    static boolean noNvidiaDriver() {
        return !Files.exists(Path.of("/dev/nvidiactl"));
    }

    @Test
    @EnabledIf("noNvidiaDriver")
    void withoutADriverTheProbeExitsOneAndSaysWhy() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = JCudaProbe.probe(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("JCudaProbe: CUDA is not usable here"), err.toString(StandardCharsets.UTF_8));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }
}
