package kittyspark.jobs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import kittyspark.jobs.generate.GenerateRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kitty-spark generate}: the main job, in Spark local mode (or the master the config names). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate a completion for every prompt of a Parquet dataset and write Parquet with quality metrics.",
                "Rows already in the output with the same fingerprint are skipped, so a rerun resumes.",
                "Exit status: 0 done, 1 bad input or config (the message says what to fix), 2 bad options,",
                "3 more error rows than --max-error-rate allows."})
public final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "IN", description = "Parquet file or directory of prompts.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output dataset directory (created or resumed).")
    String output;

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (default: kitty.model, else the bundled demo model).")
    Path model;

    @Option(names = "--device", paramLabel = "DEVICE", description = "Shortcut for --set engine.device=DEVICE: auto, cpu, cuda or cuda:N.")
    String device;

    @Option(names = "--kv", paramLabel = "MODE", description = "Shortcut for --set kv.mode=MODE: fp16, kivi or kitty.")
    String kv;

    @Option(names = "--job-conf", paramLabel = "FILE",
            description = "HOCON job config (conf/local.conf, conf/cluster-cpu.conf, conf/cluster-gpu.conf; docs/config.md).")
    Path jobConf;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key, e.g. --set sampling.max-new-tokens=64 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--retry-errors", description = "Also redo rows whose previous output is an error.")
    boolean retryErrors;

    @Option(names = "--dry-run", description = "Say how many rows would be generated, skipped and regenerated, and about how many tokens; write nothing.")
    boolean dryRun;

    @Option(names = "--max-error-rate", paramLabel = "R",
            description = "Exit 3 when more than this share (0..1) of the rows generated this run are error rows (default: kitty.run.max-error-rate, 1 = never).")
    Double maxErrorRate;

    /** The job's own config file used to be --conf, which spark-submit takes for itself. */
    @Option(names = "--conf", hidden = true, paramLabel = "FILE")
    void oldConf(String file) {
        throw new CommandLine.ParameterException(spec.commandLine(), "the job's config file is --job-conf " + file
                + " (--conf belongs to spark-submit, which takes it when it comes before the jar)");
    }

    @Override
    public Integer call() {
        List<String> all = new ArrayList<>();
        if (device != null) {
            all.add("engine.device=" + device);
        }
        if (kv != null) {
            all.add("kv.mode=" + kv);
        }
        all.addAll(sets);
        return GenerateRun.run(new GenerateRun.Request(input, output, model, jobConf, all, retryErrors, dryRun, maxErrorRate),
                KittyHome.demoModel(), System.out);
    }
}
