package kittyspark.checks.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import kittyspark.runtime.backend.cuda.CudaSettings;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
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

    @Option(names = "--e2e-batch", split = ",", defaultValue = "1,16,32,64,256", description = "End-to-end batch sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> e2e;

    @Option(names = "--prompt-tokens", defaultValue = "2048", description = "End-to-end prompt length (default: ${DEFAULT-VALUE}).")
    int prompt;

    @Option(names = "--new-tokens", defaultValue = "128", description = "End-to-end new tokens (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--out", paramLabel = "DIR", description = "Write gpu-bench.json and gpu-bench.md here.")
    Path out;

    @Option(names = "--kv", split = ",", defaultValue = "fp16",
            description = "KV modes; with kivi or kitty among them, the equal-memory benchmark instead (llama3-8b:"
                    + " max concurrent sequences at 2K/8K/32K + 512, decode at 8K with the full pool batch against its roofline,"
                    + " the Kitty attention kernel alone, end to end; writes --results-file and kitty-gpu-bench.md)."
                    + " Default: ${DEFAULT-VALUE}.")
    List<String> kv;

    @Option(names = "--kv-budget-gib", split = ",", defaultValue = "48",
            description = "KV budgets of the --kv benchmark, each for every mode: GiB, or 'whole' for the free memory after the"
                    + " weights (default: ${DEFAULT-VALUE}).")
    List<String> kvBudgets;

    @Option(names = "--kv-whole-fraction", defaultValue = "0.95",
            description = "Share of the free memory after weights and workspace a 'whole' budget gives the KV cache (default: ${DEFAULT-VALUE}).")
    double kvWholeFraction;

    @Option(names = "--kv-max-batch", defaultValue = "1024", description = "Most sequences per step in the --kv benchmark (default: ${DEFAULT-VALUE}).")
    int kvMaxBatch;

    @Option(names = "--kv-e2e", split = ",", defaultValue = "1024+7168,7680+512",
            description = "End-to-end shapes PROMPT+NEW of the --kv benchmark, as many sequences as each pool holds; 'none' for none"
                    + " (default: ${DEFAULT-VALUE}).")
    List<String> kvE2e;

    @Option(names = "--kv-prefill-prompts", defaultValue = "4",
            description = "Prompts timed through the engine per end-to-end shape for the prefill cost (default: ${DEFAULT-VALUE}).")
    int kvPrefillPrompts;

    @Option(names = "--kitty-attention", split = ",", defaultValue = "i8,bulk",
            description = "Kitty attention kernels timed alone (i8, bulk, cp-async); the first also runs the steps (default: ${DEFAULT-VALUE}).")
    List<String> kittyAttention;

    @Option(names = "--commit", defaultValue = "unknown", description = "The commit measured, recorded in the results.")
    String commit;

    @Option(names = "--results-file", defaultValue = "kitty-equal-memory-h200.json",
            description = "Name of the --kv benchmark's JSON in --out (default: ${DEFAULT-VALUE}).")
    String resultsFile;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchGpuCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (kv.stream().anyMatch(m -> !m.equals("fp16"))) {
            List<Double> budgets = kvBudgets.stream().map(b -> b.trim().equalsIgnoreCase("whole") ? 0.0 : Double.parseDouble(b)).toList();
            List<KittyGpuBench.E2e> shapes = kvE2e.size() == 1 && kvE2e.get(0).equalsIgnoreCase("none") ? List.of()
                    : kvE2e.stream().map(KittyGpuBench.E2e::parse).toList();
            KittyGpuBench.run(new KittyGpuBench.Options(out != null ? out : Path.of("out/kitty-bench"), CudaSettings.ordinalOf(device),
                    budgets, kvWholeFraction, steps, kvMaxBatch, kv, shapes, kvPrefillPrompts,
                    kittyAttention.stream().map(KittyAttentionVariant::parse).toList(), commit, resultsFile));
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
