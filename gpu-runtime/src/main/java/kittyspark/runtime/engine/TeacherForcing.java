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
