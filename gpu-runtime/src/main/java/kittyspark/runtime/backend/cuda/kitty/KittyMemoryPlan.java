package kittyspark.runtime.backend.cuda.kitty;

import kittyspark.kvquant.QuantConfig;

/**
 * The device bytes of a Kitty/KIVI cache and how a memory budget is split into them. Per
 * sequence the device holds a fixed fp16 tail slot ({@link KittyFpTail}: sink, key ring, value
 * ring, every layer) plus its packed pages; a page id covers one page of every kv head of
 * every layer, and key and value pages come from separate pools (their counts differ, so
 * they are counted separately, exactly as {@code KvMemory.streamBytes} counts them).
 *
 * <p>A budget is split for a reference sequence length (the start-up log's prompt 2048 + 128
 * unless told otherwise): as many tail slots as whole sequences of that length fit (at most
 * {@code maxSlots}, the engine's batch), each with its key and value pages, and the bytes left
 * over go to the two page pools in the same key:value proportion. Sequences of other lengths
 * are admitted by exact page counts from those pools.
 */
public record KittyMemoryPlan(QuantConfig config, int headDim, int kvHeads, int layers) {

    /** The pools a budget buys. */
    public record Sizing(int slots, int keyPages, int valuePages) {
    }

    public KittyFpTail tail() {
        return new KittyFpTail(config, kvHeads, headDim);
    }

    /** Bytes of one key page id: one key page per kv head and layer. */
    public long keyPageBytes() {
        return (long) config.keyLayout(headDim).bytes() * kvHeads * layers;
    }

    public long valuePageBytes() {
        return (long) config.valueLayout(headDim).bytes() * kvHeads * layers;
    }

    /** Bytes of one fp16 tail slot, every layer. */
    public long slotBytes() {
        KittyFpTail t = tail();
        return (t.keySlotBytes() + t.valueSlotBytes()) * layers;
    }

    /** Packed page bytes of a sequence of {@code tokens}, every layer and kv head. */
    public long pageBytes(long tokens) {
        return KittyFlush.keyPages(config, tokens) * keyPageBytes() + KittyFlush.valuePages(config, tokens) * valuePageBytes();
    }

    /** Device bytes of a sequence that may grow to {@code tokens}: its pages and its tail slot. */
    public long sequenceBytes(long tokens) {
        return pageBytes(tokens) + slotBytes();
    }

    public Sizing size(long budgetBytes, long referenceTokens, int maxSlots) {
        long per = sequenceBytes(referenceTokens);
        int slots = (int) Math.max(0, Math.min(maxSlots, budgetBytes / per));
        long kp = (long) slots * KittyFlush.keyPages(config, referenceTokens);
        long vp = (long) slots * KittyFlush.valuePages(config, referenceTokens);
        long rest = budgetBytes - slots * per;
        long kNeed = KittyFlush.keyPages(config, referenceTokens) * keyPageBytes();
        long vNeed = KittyFlush.valuePages(config, referenceTokens) * valuePageBytes();
        if (kNeed + vNeed == 0) { // a reference inside the sink: split the rest evenly
            kNeed = keyPageBytes();
            vNeed = valuePageBytes();
        }
        double kShare = kNeed / (double) (kNeed + vNeed);
        kp += (long) (rest * kShare / keyPageBytes());
        vp += (long) (rest * (1 - kShare) / valuePageBytes());
        return new Sizing(slots, (int) Math.min(Integer.MAX_VALUE, kp), (int) Math.min(Integer.MAX_VALUE, vp));
    }

    /** Bytes a sizing occupies on the device. */
    public long bytes(Sizing s) {
        return s.slots() * slotBytes() + s.keyPages() * keyPageBytes() + s.valuePages() * valuePageBytes();
    }

    /** How many sequences of {@code tokens} each fit in the pools at once. */
    public long maxSequences(Sizing s, long tokens) {
        long n = s.slots();
        int kp = KittyFlush.keyPages(config, tokens);
        int vp = KittyFlush.valuePages(config, tokens);
        if (kp > 0) {
            n = Math.min(n, s.keyPages() / kp);
        }
        if (vp > 0) {
            n = Math.min(n, s.valuePages() / vp);
        }
        return n;
    }
}
