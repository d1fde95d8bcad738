package kittyspark.runtime.eval;

import java.util.Arrays;
import java.util.List;

import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On real keys and values (the demo model, a held-out document), decoding over 2-bit pages
 * costs little, and Kitty's boost costs less than plain KIVI. The full measurement over all
 * documents is `bin/kitty-spark eval-kv` (docs/results/eval-kv.md).
 */
class KvQualityOnTheDemoModelTest {
    static CpuBackend backend;

    @BeforeAll
    static void load() {
        backend = new CpuBackend(Checkpoint.open(TestData.demoModel()), 0);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void kittyStaysCloseToFp16AndBeatsKivi() {
        List<int[]> docs = TestData.refDocs().stream().limit(2).map(d -> Arrays.copyOf(d.tokenIds(), 640)).toList();
        KvEvaluation.Report r = new KvEvaluation(backend, 2).run(docs,
                List.of(KvSettings.parse("fp16"), KvSettings.parse("kivi"), KvSettings.parse("kitty")), 256, null);
        KvModeQuality fp16 = r.modes().get(0);
        KvModeQuality kivi = r.modes().get(1);
        KvModeQuality kitty = r.modes().get(2);
        assertEquals(2 * 384, r.nPositions());
        assertTrue(kitty.ppl() < fp16.ppl() * 1.03, "kitty ppl " + kitty.ppl() + " vs fp16 " + fp16.ppl());
        assertTrue(kitty.klVsFp16() < kivi.klVsFp16(), "KL kitty " + kitty.klVsFp16() + " vs kivi " + kivi.klVsFp16());
        assertTrue(kitty.klVsFp16() > 0, "decode really read quantized pages");
        assertEquals(2.65625, kitty.bitsPerElement());
        assertEquals(2.375, kivi.bitsPerElement());
    }
}
