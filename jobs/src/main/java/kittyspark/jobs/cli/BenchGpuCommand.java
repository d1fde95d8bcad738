package kittyspark.jobs.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.GpuBench;

/** The CUDA backend's benchmark (issue 5) on a synthetic model of a named shape. */
@Command(name = "bench-gpu", mixinStandardHelpOptions = true,
        description = "On a CUDA device, with a synthetic model of a named shape (random bf16 weights made on the GPU): "
                + "measured copy bandwidth and GEMM peak, decode-step time vs the roofline, prefill throughput, "
                + "end-to-end generation. Writes gpu-bench.json and gpu-bench.md.")
public final class BenchGpuCommand implements Callable<Integer> {
    @Option(names = "--shape", defaultValue = "llama3-8b", description = "Model shape (default: ${DEFAULT-VALUE}); see ModelShapes.")
    String shape;

    @Option(names = "--device", defaultValue = "cuda:0", description = "cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--batch", split = ",", defaultValue = "1,16,64,256", description = "Decode batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--context", split = ",", defaultValue = "2048,8192", description = "Decode contexts (default: ${DEFAULT-VALUE}).")
    List<Integer> contexts;

    @Option(names = "--steps", defaultValue = "10", description = "Timed decode steps per point (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--prefill-tokens", defaultValue = "2048", description = "Prefill prompt length (default: ${DEFAULT-VALUE}).")
    int prefill;

    @Option(names = "--e2e-batch", split = ",", defaultValue = "1,16,32,64", description = "End-to-end batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> e2e;

    @Option(names = "--prompt-tokens", defaultValue = "2048", description = "End-to-end prompt length (default: ${DEFAULT-VALUE}).")
    int prompt;

    @Option(names = "--new-tokens", defaultValue = "128", description = "End-to-end new tokens (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--out", paramLabel = "DIR", description = "Write gpu-bench.json and gpu-bench.md here.")
    Path out;

    @Override
    public Integer call() throws Exception {
        GpuBench.run(new GpuBench.Options(shape, CudaSettings.ordinalOf(device), ints(batches), ints(contexts), prefill, ints(e2e),
                prompt, newTokens, steps, out));
        return 0;
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }
}
