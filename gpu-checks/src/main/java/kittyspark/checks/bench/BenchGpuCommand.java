package kittyspark.checks.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import kittyspark.runtime.backend.cuda.CudaSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The CUDA backend's benchmarks on a synthetic model of a named shape; the device kit runs it as
 * {@code kitty bench-gpu}.
 */
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

    @Option(names = "--kv", split = ",", defaultValue = "fp16",
            description = "KV modes; with kivi or kitty among them, the equal-memory benchmark instead (llama3-8b:"
                    + " max concurrent sequences at 2K/8K/32K + 512, decode throughput at 8K with the full pool batch;"
                    + " writes kitty-gpu-bench.json/.md). Default: ${DEFAULT-VALUE}.")
    List<String> kv;

    @Option(names = "--kv-budget-gib", defaultValue = "48", description = "KV budget of every mode, GiB (default: ${DEFAULT-VALUE}).")
    double kvBudgetGib;

    @Option(names = "--kv-max-batch", defaultValue = "512", description = "Most sequences per step in the --kv benchmark (default: ${DEFAULT-VALUE}).")
    int kvMaxBatch;

    @Option(names = "--kv-e2e-new-tokens", defaultValue = "0",
            description = "Also generate end to end through the engine (prompt 8192 - N, N new tokens, full pool) in fp16 and kitty; 0: no.")
    int kvE2eNew;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchGpuCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (kv.stream().anyMatch(m -> !m.equals("fp16"))) {
            KittyGpuBench.run(new KittyGpuBench.Options(
                    out != null ? out : Path.of("out/kitty-bench"), CudaSettings.ordinalOf(device),
                    (long) (kvBudgetGib * (1L << 30)), steps, kvMaxBatch, kv, kvE2eNew, List.of("fp16", "kitty")));
            return 0;
        }
        GpuBench.run(new GpuBench.Options(shape, CudaSettings.ordinalOf(device), ints(batches), ints(contexts), prefill, ints(e2e),
                prompt, newTokens, steps, out));
        return 0;
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }
}
