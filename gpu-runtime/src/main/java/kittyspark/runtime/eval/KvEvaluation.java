package kittyspark.runtime.eval;

import java.util.ArrayList;
import java.util.List;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.checkpoint.KvGeometry;
import kittyspark.runtime.engine.TeacherForcing;
import kittyspark.runtime.kv.KvBits;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.LogitMath;

/**
 * Measures what each KV mode costs: every document's first {@code prefill} tokens are
 * prefilled, the rest are fed token by token through the decode path (teacher forcing), so
 * attention reads the quantized pages; only those decoded positions are scored, against the
 * fp16 cache's distributions at the same positions. Documents go through in batches so each
 * decode step reads the weights once for the whole batch.
 */
public final class KvEvaluation {
    /** Running sums for one mode. */
    private static final class Sums {
        double nll;
        double kl;
        long top1;
        long positions;
        double bytes;
        double elements;
    }

    private final Backend backend;
    private final int batch;

    public KvEvaluation(Backend backend, int batch) {
        this.backend = backend;
        this.batch = Math.max(1, batch);
    }

    /** Results per mode, in the order given (fp16 is always measured, as the reference). */
    public record Report(List<KvModeQuality> modes, int nDocs, long nPositions) {
    }

    public Report run(List<int[]> docs, List<KvSettings> modes, int prefill, ProgressListener progress) {
        KvSettings fp16 = KvSettings.of(KvMode.FP16);
        int vocab = backend.config().vocabSize();
        KvGeometry g = backend.config().kvGeometry();
        List<KvSettings> all = new ArrayList<>(modes);
        if (all.stream().noneMatch(m -> m.mode() == KvMode.FP16)) {
            all.add(0, fp16);
        }
        Sums[] sums = new Sums[all.size()];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = new Sums();
        }
        int scoredDocs = 0;
        for (int from = 0; from < docs.size(); from += batch) {
            List<int[]> chunk = new ArrayList<>();
            List<Integer> prefills = new ArrayList<>();
            for (int[] d : docs.subList(from, Math.min(docs.size(), from + batch))) {
                if (d.length > prefill + 1) {
                    chunk.add(d);
                    prefills.add(prefill);
                }
            }
            if (chunk.isEmpty()) {
                continue;
            }
            scoredDocs += chunk.size();
            List<float[]> ref = TeacherForcing.decodeLogits(backend, fp16, chunk, prefills);
            for (int m = 0; m < all.size(); m++) {
                TeacherForcing.Run run = all.get(m).equals(fp16)
                        ? null : TeacherForcing.run(backend, all.get(m), chunk, prefills);
                for (int d = 0; d < chunk.size(); d++) {
                    int[] toks = chunk.get(d);
                    float[] mine = run == null ? ref.get(d) : run.logits().get(d);
                    float[] base = ref.get(d);
                    for (int j = 0; j < toks.length - prefill; j++) {
                        int off = j * vocab;
                        sums[m].nll -= LogitMath.logProb(mine, off, vocab, toks[prefill + j]);
                        if (run != null) {
                            sums[m].kl += LogitMath.kl(base, off, mine, off, vocab);
                            if (LogitMath.argmax(base, off, vocab) == LogitMath.argmax(mine, off, vocab)) {
                                sums[m].top1++;
                            }
                        } else {
                            sums[m].top1++;
                        }
                        sums[m].positions++;
                    }
                    long stored = toks.length - 1; // every token but the last was fed
                    sums[m].elements += (double) stored * g.numLayers() * g.kvWidth() * 2;
                    sums[m].bytes += run == null ? stored * g.numLayers() * g.kvWidth() * 2.0 * 2 : run.kvBytes()[d];
                }
                if (progress != null) {
                    progress.batchDone(all.get(m), Math.min(docs.size(), from + batch), docs.size());
                }
            }
        }
        List<KvModeQuality> out = new ArrayList<>();
        for (int m = 0; m < all.size(); m++) {
            Sums s = sums[m];
            double nll = s.nll / s.positions;
            out.add(new KvModeQuality(all.get(m).describe(), nll, Math.exp(nll), s.kl / s.positions,
                    (double) s.top1 / s.positions, KvBits.pageBitsPerElement(all.get(m), g.headDim()),
                    8 * s.bytes / s.elements));
        }
        return new Report(List.copyOf(out), scoredDocs, sums[0].positions);
    }

    /** Called after each batch of documents for each mode. */
    @FunctionalInterface
    public interface ProgressListener {
        void batchDone(KvSettings mode, int docsDone, int docsTotal);
    }
}
