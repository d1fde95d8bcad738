package kittyspark.jobs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import kittyspark.jobs.generate.GenerateRun;
import kittyspark.pipeline.JobSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kitty-spark generate}: the main job, in Spark local mode (or the master the config names). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate a completion for every prompt of a Parquet dataset and write Parquet with quality metrics.",
                "Rows already in the output with the same fingerprint are skipped, so a rerun resumes."})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "IN", description = "Parquet file or directory of prompts.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output dataset directory (created or resumed).")
    String output;

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (default: kitty.model, else the bundled demo model).")
    Path model;

    @Option(names = "--conf", paramLabel = "FILE", description = "HOCON job config (see conf/ and docs/config.md).")
    Path conf;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key, e.g. --set sampling.max-new-tokens=64 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--retry-errors", description = "Also redo rows whose previous output is an error.")
    boolean retryErrors;

    @Override
    public Integer call() {
        JobSummary s = GenerateRun.run(input, output, model, conf, sets, retryErrors, KittyHome.demoModel(), System.out);
        return s.errorRows() >= 0 ? 0 : 1;
    }
}
