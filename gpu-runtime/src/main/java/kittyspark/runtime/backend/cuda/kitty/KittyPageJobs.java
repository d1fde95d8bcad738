package kittyspark.runtime.backend.cuda.kitty;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import kittyspark.kvquant.KeyPageLayout;
import kittyspark.kvquant.ValuePageLayout;

/**
 * The descriptor array of one batched page-quantization launch: job i is the pair
 * {@code (src, dst)} of device addresses (two little-endian uint64, {@link #JOB_BYTES} bytes,
 * struct {@code kitty::PageJob}). {@code src} points at token 0, kv head 0 of the page's P
 * full-precision rows, {@code dst} at the page's kv head 0 in the pool. After prefill every
 * prompt page of a batch goes into one array and one launch per kernel (keys, values).
 *
 * <p>Launch: grid (jobs, kvHeads), one block per (page, kv head); the kernel arguments after
 * the array are {@code P, D, [B,] tokenStride, headStride} in elements of the source type.
 */
public final class KittyPageJobs {
    public static final int JOB_BYTES = 16;
    public static final int VALUE_THREADS = 128;

    private long[] words = new long[16];
    private int count;

    public KittyPageJobs add(long srcAddress, long dstAddress) {
        if (2 * count + 2 > words.length) {
            words = Arrays.copyOf(words, words.length * 2);
        }
        words[2 * count] = srcAddress;
        words[2 * count + 1] = dstAddress;
        count++;
        return this;
    }

    public int count() {
        return count;
    }

    /** The bytes to copy to the device. */
    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(count * JOB_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 2 * count; i++) {
            b.putLong(words[i]);
        }
        return b.array();
    }

    public static int[] grid(int jobs, int kvHeads) {
        return new int[] {jobs, kvHeads};
    }

    /** Key kernel: thread d owns channel d. */
    public static int keyThreads(KeyPageLayout layout) {
        return (layout.headDim() + 31) / 32 * 32;
    }

    /** Key kernel's dynamic shared memory: the page, 16-byte aligned, then one fp32 score per channel. */
    public static int keySharedBytes(KeyPageLayout layout) {
        return (layout.bytes() + 15) / 16 * 16 + 4 * layout.headDim();
    }

    /** Value kernel's dynamic shared memory: the page. */
    public static int valueSharedBytes(ValuePageLayout layout) {
        return layout.bytes();
    }
}
