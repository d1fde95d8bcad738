package kittyspark.pipeline.plan;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import kittyspark.pipeline.TestSpark;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pure parts of planning: hashing, placement, chat templates. */
class PlanPartsTest {

    @Test
    void snakeOrderGivesEveryPartitionOneOfEachLengthBand() {
        int[] sums = new int[4];
        for (int rank = 0; rank < 16; rank++) {
            sums[LengthAwarePartitioner.snake(rank, 4)] += 16 - rank; // longest first
        }
        for (int s : sums) {
            assertEquals(34, s, "equal total length per partition");
        }
    }

    @Test
    void fidelitySampleIsAFixedFunctionOfTheIdNearTheFraction() {
        long chosen = IntStream.range(0, 20000).filter(i -> StableHash.inFidelitySample("row-" + i, 0.05)).count();
        assertTrue(chosen > 800 && chosen < 1200, "about 5%: " + chosen);
        assertEquals(StableHash.inFidelitySample("row-7", 0.3), StableHash.inFidelitySample("row-7", 0.3));
        assertFalse(StableHash.inFidelitySample("x", 0.0));
        assertTrue(StableHash.inFidelitySample("x", 1.0));
    }

    @Test
    void derivedSeedsAreStableAcrossJvmsAndDependOnTheJobSeed() {
        assertEquals(StableHash.derivedSeed(0, "a#1"), StableHash.derivedSeed(0, "a#1"));
        assertTrue(StableHash.derivedSeed(0, "a#1") != StableHash.derivedSeed(1, "a#1"));
        // Pinned value: changing the hash would silently reseed (and re-fingerprint) every row of existing outputs.
        assertEquals(-8028627659649010727L, StableHash.hash64(0, "kitty"));
    }

    @Test
    void chatMessagesRenderWithTheCheckpointsJinjaTemplate() {
        String qwenStyle = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
                + "+ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        ChatTemplate t = ChatTemplate.of(qwenStyle, Map.of("eos_token", "<|im_end|>"));
        String text = t.render(List.of(new PromptRow.ChatMessage("system", "Be brief."),
                new PromptRow.ChatMessage("user", "Hi 😀")));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi 😀<|im_end|>\n<|im_start|>assistant\n", text);
    }

    @Test
    void theDemoModelHasNoChatTemplate() {
        assertEquals(null, ChatTemplate.load(TestSpark.DEMO_MODEL));
    }
}
