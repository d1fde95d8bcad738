package kittyspark.runtime.backend;

/**
 * What one forward step of a backend still holds while the scheduler fills it: each call
 * reserves room for a piece and says how many of its tokens fit. The scheduler builds only
 * steps that fit, so a backend never has to split or re-route a step (which would change how a
 * seeded request is sampled). A fresh one per step.
 */
public interface StepCapacity {
    /**
     * Reserves room for up to {@code want} tokens continuing {@code sequence} in this step.
     *
     * @param sampled whether the piece asks for a sampled token (its last row's logits)
     * @return tokens reserved, {@code 0..want}; 0 when the piece does not fit this step at all
     */
    int take(SequenceState sequence, int want, boolean sampled);

    /** A backend without step limits (the CPU reference). */
    static StepCapacity unlimited() {
        return (sequence, want, sampled) -> want;
    }
}
