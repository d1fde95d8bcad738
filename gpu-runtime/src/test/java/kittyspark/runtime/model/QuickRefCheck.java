package kittyspark.runtime.model;

import java.util.List;

import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SequenceState;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.testing.TestData;

public class QuickRefCheck {
    public static void main(String[] a) {
        CpuBackend b = new CpuBackend(Checkpoint.open(TestData.demoModel()), 0);
        for (int di = 0; di < Integer.parseInt(a[0]); di++) {
            TestData.RefDoc d = TestData.refDocs().get(di);
            long t0 = System.nanoTime();
            SequenceState s = b.newSequence(KvSettings.parse("fp16"));
            float[] logits = b.forward(List.of(new ForwardInput(s, d.tokenIds(), true))).get(0);
            long t1 = System.nanoTime();
            int V = b.config().vocabSize();
            int n = d.tokenIds().length;
            double nll = 0; int agree = 0;
            for (int i = 0; i < n - 1; i++) {
                double max = -1e30; int am = 0;
                for (int v = 0; v < V; v++) if (logits[i*V+v] > max) { max = logits[i*V+v]; am = v; }
                double sum = 0; for (int v = 0; v < V; v++) sum += Math.exp(logits[i*V+v]-max);
                double lp = logits[i*V+d.tokenIds()[i+1]] - max - Math.log(sum);
                nll -= lp; if (am == d.argmax()[i]) agree++;
            }
            System.out.printf("doc %s n=%d nll=%.5f ref=%.5f agree=%d/%d  %.1fs%n", d.id(), n, nll/(n-1), d.nllMean(), agree, n-1, (t1-t0)/1e9);
        }
        b.close();
    }
}
