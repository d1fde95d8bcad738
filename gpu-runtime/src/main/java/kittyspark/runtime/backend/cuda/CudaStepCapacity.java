package kittyspark.runtime.backend.cuda;

import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.StepCapacity;
import kittyspark.runtime.backend.cuda.kitty.KittyCache;
import kittyspark.runtime.backend.cuda.kitty.KittyStepPlan;

/**
 * The room of one CUDA step: rows of the workspace, logits rows that can be sampled, and for
 * Kitty sequences the step's fp16 scratch pages, staging rows and decode batch. One step takes
 * sequences of one KV cache (fp16 pages or one Kitty pool): a sequence of another gets 0.
 */
final class CudaStepCapacity implements StepCapacity {
    private int rowsLeft;
    private int samplesLeft;
    private boolean any;
    private KittyCache cache;
    private int pieces;
    private int scratchLeft;
    private int stageLeft;

    CudaStepCapacity(int rows, int samples) {
        this.rowsLeft = rows;
        this.samplesLeft = samples;
    }

    @Override
    public int take(SequenceState sequence, int want, boolean sampled) {
        CudaSequence s = (CudaSequence) sequence;
        if (want <= 0 || rowsLeft <= 0 || (sampled && samplesLeft <= 0)) {
            return 0;
        }
        KittyCache kc = s.cache();
        if (any && kc != cache) {
            return 0;
        }
        int take = Math.min(want, rowsLeft);
        if (kc != null) {
            int scratch = any ? scratchLeft : kc.scratchPages;
            int stage = any ? stageLeft : kc.stageRows;
            if (pieces >= kc.maxBatch) {
                return 0;
            }
            take = kittyTake(kc, s.length, take, scratch, stage);
            if (take == 0) {
                return 0;
            }
            scratchLeft = scratch - KittyStepPlan.scratchNeed(s.length, take);
            stageLeft = stage - KittyStepPlan.stageNeed(kc.config, s.length, take);
        }
        any = true;
        cache = kc;
        pieces++;
        rowsLeft -= take;
        if (sampled) {
            samplesLeft--;
        }
        return take;
    }

    /** Why a sequence's piece did not fit (for error messages). */
    String refusal(CudaSequence s) {
        if (any && s.cache() != cache) {
            return "one CUDA step takes sequences of one KV cache";
        }
        if (s.cache() != null) {
            return "a Kitty sequence at " + s.length + " tokens needs more than the step's scratch of "
                    + s.cache().scratchPages * KittyStepPlan.SCRATCH_PAGE + " tokens or its staging rows";
        }
        return "the step holds no more rows or sampled rows";
    }

    /** Most of {@code want} tokens a Kitty piece at {@code l0} may take within the step's scratch and staging (0: none). */
    private static int kittyTake(KittyCache kc, int l0, int want, int scratchLeft, int stageLeft) {
        int take = want;
        while (take > 0 && (KittyStepPlan.scratchNeed(l0, take) > scratchLeft
                || KittyStepPlan.stageNeed(kc.config, l0, take) > stageLeft)) {
            take = take > 64 ? take - Math.max(1, take / 8) : take - 1;
        }
        return take;
    }
}
