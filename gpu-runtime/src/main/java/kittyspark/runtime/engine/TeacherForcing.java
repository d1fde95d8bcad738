package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.kv.KvSettings;

/**
 * Feeds known tokens through the model and returns the logits that predict each of them.
 * The first {@code prefill} tokens go through one prefill step; every later token goes
 * through the decode path one at a time, so a quantized cache is read the way generation
 * reads it. Several sequences are advanced together to share each step's weight reads.
 */
public final class TeacherForcing {
    private TeacherForcing() {
    }

    /**
     * @param logits  per sequence, row-major {@code [tokens.length - prefill][vocab]}: row j
     *                predicts token {@code prefill + j}
     * @param kvBytes per sequence, the KV bytes held once all but its last token were fed
     */
    public record Run(List<float[]> logits, long[] kvBytes) {
    }

    /** @see #run */
    public static List<float[]> decodeLogits(Backend backend, KvSettings kv, List<int[]> sequences, List<Integer> prefill) {
        return run(backend, kv, sequences, prefill).logits();
    }

    public static Run run(Backend backend, KvSettings kv, List<int[]> sequences, List<Integer> prefill) {
        int vocab = backend.config().vocabSize();
        int n = sequences.size();
        List<SequenceState> states = new ArrayList<>(n);
        List<float[]> out = new ArrayList<>(n);
        try {
            List<ForwardInput> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int[] toks = sequences.get(i);
                int m = prefill.get(i);
                if (m < 1 || m > toks.length) {
                    throw new IllegalArgumentException("prefill length " + m + " must be in [1, " + toks.length + "]");
                }
                states.add(backend.newSequence(kv));
                out.add(new float[(toks.length - m) * vocab]);
                batch.add(new ForwardInput(states.get(i), java.util.Arrays.copyOf(toks, m), false));
            }
            List<float[]> logits = backend.forward(batch);
            int[] idx = new int[n];
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                copyRow(logits.get(i), 0, out.get(i), 0, vocab, sequences.get(i).length - prefill.get(i));
                idx[i] = prefill.get(i);
                if (idx[i] < sequences.get(i).length - 1) {
                    live.add(i);
                }
            }
            while (!live.isEmpty()) {
                batch.clear();
                for (int i : live) {
                    batch.add(new ForwardInput(states.get(i), new int[] {sequences.get(i)[idx[i]]}, false));
                }
                logits = backend.forward(batch);
                List<Integer> next = new ArrayList<>();
                for (int b = 0; b < live.size(); b++) {
                    int i = live.get(b);
                    int row = idx[i] - prefill.get(i) + 1;
                    copyRow(logits.get(b), 0, out.get(i), row * vocab, vocab, 1);
                    idx[i]++;
                    if (idx[i] < sequences.get(i).length - 1) {
                        next.add(i);
                    }
                }
                live = next;
            }
            long[] bytes = new long[n];
            for (int i = 0; i < n; i++) {
                bytes[i] = states.get(i).kvBytes();
            }
            return new Run(out, bytes);
        } finally {
            states.forEach(SequenceState::release);
        }
    }

    private static void copyRow(float[] src, int so, float[] dst, int dOff, int vocab, int rowsWanted) {
        if (rowsWanted > 0) {
            System.arraycopy(src, so, dst, dOff, vocab);
        }
    }

    /**
     * The logits of {@link #decodeLogits} computed in two steps: the first {@code prefill}
     * tokens as one prefill, then the rest (but the last) as one chunk whose every row's logits
     * are kept. Only for a full-precision cache, where a chunk attends over the same keys and
     * values that decoding it token by token would: the logits are the same up to float
     * rounding, for the cost of two batched forwards instead of one per token. (A quantized cache
     * turns full buffers into pages between steps, so there the two differ.)
     */
    public static List<float[]> chunkLogits(Backend backend, KvSettings kv, List<int[]> sequences, List<Integer> prefill) {
        if (kv.quantized()) {
            throw new IllegalArgumentException("a quantized cache is read as decoding reads it: use decodeLogits");
        }
        int vocab = backend.config().vocabSize();
        int n = sequences.size();
        List<SequenceState> states = new ArrayList<>(n);
        List<float[]> out = new ArrayList<>(n);
        try {
            List<ForwardInput> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int[] toks = sequences.get(i);
                int m = prefill.get(i);
                if (m < 1 || m > toks.length) {
                    throw new IllegalArgumentException("prefill length " + m + " must be in [1, " + toks.length + "]");
                }
                states.add(backend.newSequence(kv));
                out.add(new float[(toks.length - m) * vocab]);
                batch.add(new ForwardInput(states.get(i), java.util.Arrays.copyOf(toks, m), false));
            }
            List<float[]> logits = backend.forward(batch);
            batch.clear();
            List<Integer> chunked = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int[] toks = sequences.get(i);
                int m = prefill.get(i);
                copyRow(logits.get(i), 0, out.get(i), 0, vocab, toks.length - m);
                if (m < toks.length - 1) {
                    batch.add(new ForwardInput(states.get(i), java.util.Arrays.copyOfRange(toks, m, toks.length - 1), true));
                    chunked.add(i);
                }
            }
            if (!batch.isEmpty()) {
                logits = backend.forward(batch);
                for (int b = 0; b < chunked.size(); b++) {
                    float[] rows = logits.get(b);
                    System.arraycopy(rows, 0, out.get(chunked.get(b)), vocab, rows.length);
                }
            }
            return out;
        } finally {
            states.forEach(SequenceState::release);
        }
    }

    /** Logits at every position of one full-precision forward: row i predicts token i + 1. */
    public static float[] prefillLogits(Backend backend, KvSettings kv, int[] tokens) {
        SequenceState s = backend.newSequence(kv);
        try {
            return backend.forward(List.of(new ForwardInput(s, tokens, true))).get(0);
        } finally {
            s.release();
        }
    }
}
