package kittyspark.jobs.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.sampling.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Completes one prompt and prints the completion. */
@Command(name = "complete", mixinStandardHelpOptions = true,
        description = "Complete one prompt and print the completion (the generated text only; --echo prints the prompt first).")
public final class CompleteCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", required = true, description = "The prompt text.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens; 0 = all.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass in (0, 1] (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", description = "Stop string (repeatable); the completion ends before it.")
    List<String> stop = new ArrayList<>();

    @Option(names = "--echo", description = "Print the prompt before the completion.")
    boolean echo;

    @Override
    public Integer call() throws Exception {
        SamplingParams params = new SamplingParams(maxNewTokens, temperature, topK, topP, seed, stop);
        try (GenerationEngine engine = GenerationEngine.open(model.engineOptions(1))) {
            int[] ids = engine.tokenizer().promptIds(prompt, false);
            if (ids.length == 0) {
                throw new IllegalArgumentException("the prompt is empty");
            }
            GenerationResult r = engine.submit(new GenerationRequest("cli", ids, params, model.kvSettings())).get();
            if (r.error() != null) {
                throw new IllegalArgumentException(r.error());
            }
            System.out.println(echo ? prompt + r.completion() : r.completion());
            System.err.printf("[%d prompt tokens, %d generated, finish %s, %.1f tokens/s decode, kv %s]%n",
                    r.promptTokens(), r.completionTokens(), r.finishReason().id(),
                    r.decodeNanos() > 0 ? (r.completionTokens() - 1) / (r.decodeNanos() / 1e9) : 0.0,
                    model.kvSettings().describe());
        }
        return 0;
    }
}
