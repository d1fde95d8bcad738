package kittyspark.jobs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import kittyspark.jobs.generate.GenerateRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kitty-spark demo}: the generate job, locally, on the demo model and the bundled example prompts. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the generate job locally on the bundled demo model over data/demo-prompts.parquet",
                "(held-out Python files plus deliberately bad rows), then print the summary and the output path."})
public final class DemoCommand implements Callable<Integer> {
    static final String DEMO_INPUT = "data/demo-prompts.parquet";

    @Option(names = "--output", paramLabel = "OUT", description = "Output directory (default: out/demo, resumed if it exists).")
    Path output;

    @Option(names = "--kv", paramLabel = "MODE", description = "KV-cache mode: fp16, kivi or kitty (default: kitty).")
    String kv;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
    List<String> sets = new ArrayList<>();

    @Override
    public Integer call() {
        Path home = KittyHome.dir();
        Path out = output != null ? output : home.resolve("out/demo");
        List<String> all = new ArrayList<>();
        all.add("sampling.max-new-tokens=32"); // keeps the CPU demo to a minute or so
        all.add("fidelity.fraction=0.25");
        all.add("run.progress-interval=10s");
        if (kv != null) {
            all.add("kv.mode=" + kv);
        }
        all.addAll(sets);
        return GenerateRun.run(new GenerateRun.Request(home.resolve(DEMO_INPUT).toString(), out.toString(), KittyHome.demoModel(),
                home.resolve("conf/local.conf"), all, false, false, null), KittyHome.demoModel(), System.out);
    }
}
