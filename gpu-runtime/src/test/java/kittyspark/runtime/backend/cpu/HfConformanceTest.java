package kittyspark.runtime.backend.cpu;

import java.util.List;

import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.eval.Conformance;
import kittyspark.runtime.eval.DocumentScore;
import kittyspark.runtime.eval.HfReference;
import kittyspark.runtime.eval.Scorer;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo model scored by the CPU backend agrees with Hugging Face transformers (fp32) on
 * held-out documents. CI checks a subset for time; `bin/kitty-spark score --reference` checks
 * all 60.
 */
class HfConformanceTest {
    /** Documents checked in CI: the shortest ones, about 1% of the set's tokens each. */
    static final int DOCS = 3;
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
    void teacherForcedScoresMatchTheReference() {
        List<HfReference.Doc> docs = HfReference.load(TestData.evalFile("heldout-public-hfref.json"))
                .stream().sorted(java.util.Comparator.comparingInt(d -> d.tokenIds().length)).limit(DOCS).toList();
        Conformance c = new Conformance();
        Scorer scorer = new Scorer(backend);
        for (HfReference.Doc d : docs) {
            DocumentScore s = scorer.score(d.id(), d.tokenIds(), KvSettings.parse("fp16"), d.tokenIds().length);
            c.add(d, s);
        }
        assertTrue(c.argmaxAgreement() >= Conformance.MIN_ARGMAX_AGREEMENT, c.summary());
        assertTrue(c.worstNllDelta() <= Conformance.MAX_NLL_DELTA, c.summary());
    }
}
