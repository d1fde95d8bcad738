package kittyspark.pipeline.plan;

import java.util.List;

import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.TestSpark;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RowPlanTest {
    static final PipelineConfig CFG = TestSpark.config();

    static PromptRow row(String id, int occurrence, String prompt) {
        return new PromptRow(id, occurrence, prompt, null, null, null, null, null, null);
    }

    @Test
    void aRowWithoutParametersTakesTheJobDefaultsAndASeedDerivedFromItsId() {
        RowPlan p = RowPlan.of(row("a", 1, "x"), CFG, "m");
        assertNull(p.error());
        assertEquals(4, p.params().maxNewTokens());
        assertEquals(StableHash.derivedSeed(42L, "a#1"), p.params().seed());
        assertNotEquals(p.params().seed(), RowPlan.of(row("b", 1, "x"), CFG, "m").params().seed());
    }

    @Test
    void perRowParametersWinOverDefaults() {
        PromptRow r = new PromptRow("a", 1, "x", null, 9L, 0.5, 0.9, 3L, List.of("\n"));
        RowPlan p = RowPlan.of(r, CFG, "m");
        assertEquals(9, p.params().maxNewTokens());
        assertEquals(0.5, p.params().temperature());
        assertEquals(3L, p.params().seed());
        assertEquals(List.of("\n"), p.params().stop());
    }

    @Test
    void theFingerprintChangesWithPromptParametersModelAndKvButNotWithOtherColumns() {
        String base = RowPlan.of(row("a", 1, "x"), CFG, "m").fingerprint();
        assertEquals(base, RowPlan.of(row("a", 1, "x"), CFG, "m").fingerprint());
        assertNotEquals(base, RowPlan.of(row("a", 1, "y"), CFG, "m").fingerprint());
        assertNotEquals(base, RowPlan.of(row("a", 1, "x"), CFG, "m2").fingerprint());
        assertNotEquals(base, RowPlan.of(row("a", 1, "x"), CFG.withSampling(
                new PipelineConfig.SamplingDefaults(5, 0.0, 0, 1.0, List.of())), "m").fingerprint());
        assertNotEquals(base, RowPlan.of(row("a", 1, "x"), CFG.withTruncateLeft(true), "m").fingerprint());
    }

    @Test
    void badParametersBecomeAnErrorSayingWhich() {
        PromptRow r = new PromptRow("a", 1, "x", null, null, null, 0.0, null, null);
        assertTrue(RowPlan.of(r, CFG, "m").error().contains("top_p must be in (0, 1]"));
        PromptRow big = new PromptRow("a", 1, "x", null, 1L << 40, null, null, null, null);
        assertTrue(RowPlan.of(big, CFG, "m").error().contains("max_new_tokens must fit in an int"));
    }

    @Test
    void aMessagesRowNeedsNoPromptButEveryMessageNeedsRoleAndContent() {
        PromptRow ok = new PromptRow("a", 1, null, List.of(new PromptRow.ChatMessage("user", "hi")), null, null, null, null, null);
        assertNull(RowPlan.of(ok, CFG, "m").error());
        PromptRow bad = new PromptRow("a", 1, null, List.of(new PromptRow.ChatMessage("user", null)), null, null, null, null, null);
        assertTrue(RowPlan.of(bad, CFG, "m").error().startsWith("messages:"));
    }
}
