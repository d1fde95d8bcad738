package kittyspark.jobs.cli;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.jobs.report.KvReportHtml;
import kittyspark.runtime.backend.cpu.CpuBackend;
import kittyspark.runtime.engine.ModelRuntime;
import kittyspark.runtime.eval.KeyChannelMagnitudes;
import kittyspark.runtime.eval.KvEvaluation;
import kittyspark.runtime.eval.KvModeQuality;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What each KV mode costs in quality and memory, measured teacher-forced on documents. */
@Command(name = "eval-kv", mixinStandardHelpOptions = true,
        description = "Compare KV-cache modes on documents: perplexity, KL and top-1 agreement vs fp16, bits per element.")
public final class EvalKvCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Mixin
    ModelOptions model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON lines with id and text.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "report.json")
    Path output;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write an HTML report with charts.")
    Path html;

    @Option(names = "--modes", split = ",", defaultValue = "fp16,kivi,kitty",
            description = "KV modes to compare (default: ${DEFAULT-VALUE}); --kv-boost-fraction/--kv-sink apply to kitty.")
    List<String> modes;

    @Option(names = "--max-tokens", defaultValue = "2048", description = "Tokens per document (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--prefill", description = "Tokens prefilled before decoding the rest (default: half of --max-tokens).")
    Integer prefill;

    @Option(names = "--batch", defaultValue = "8", description = "Documents decoded together (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--limit", description = "Use only the first N documents.")
    Integer limit;

    @Option(names = "--heatmap-layer", defaultValue = "0", description = "Layer of the key-magnitude heatmap (default: ${DEFAULT-VALUE}).")
    int heatmapLayer;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(input)) {
            throw new IllegalArgumentException(input + ": input file not found");
        }
        int m = prefill != null ? prefill : maxTokens / 2;
        if (m < 1 || m >= maxTokens) {
            throw new IllegalArgumentException("--prefill must be in [1, --max-tokens)");
        }
        List<KvSettings> settings = new ArrayList<>();
        for (String mode : modes) {
            KvSettings s = KvSettings.parse(mode);
            settings.add(s.mode() == kittyspark.runtime.kv.KvMode.KITTY ? model.withOverrides(s) : s);
        }
        long t0 = System.nanoTime();
        // Teacher-forced scoring drives the backend itself: a model without a scheduler.
        try (ModelRuntime engine = ModelRuntime.open(model.engineOptions(1))) {
            List<int[]> docs = readDocs(engine);
            KvEvaluation eval = new KvEvaluation(engine.backend(), batch);
            KvEvaluation.Report r = eval.run(docs, settings, m, (mode, done, total) ->
                    System.err.printf("eval-kv: %s %d/%d documents%n", mode.mode().id(), done, total));
            double secs = (System.nanoTime() - t0) / 1e9;
            ObjectNode report = JSON.createObjectNode();
            report.put("model", engine.modelName());
            report.put("input", input.toString());
            report.put("max_tokens", maxTokens);
            report.put("prefill", m);
            report.put("n_docs", r.nDocs());
            report.put("n_positions", r.nPositions());
            report.put("seconds", Math.round(secs * 10) / 10.0);
            var arr = report.putArray("modes");
            for (KvModeQuality q : r.modes()) {
                ObjectNode o = arr.addObject();
                o.put("kv", q.kv());
                o.put("nll_mean", q.nllMean());
                o.put("ppl", q.ppl());
                o.put("kl_vs_fp16", q.klVsFp16());
                o.put("top1_vs_fp16", q.top1VsFp16());
                o.put("bits_per_element", q.bitsPerElement());
                o.put("bits_per_element_all", q.bitsPerElementAll());
            }
            JSON.writeValue(output.toFile(), report);
            System.out.println(table(r, secs));
            if (html != null) {
                KeyChannelMagnitudes.Heatmap heat = engine.backend() instanceof CpuBackend cpu && !docs.isEmpty()
                        ? KeyChannelMagnitudes.measure(cpu, docs.get(0), heatmapLayer, settings.get(0).pageSize()) : null;
                Files.writeString(html, KvReportHtml.render(report, heat), StandardCharsets.UTF_8);
                System.err.println("eval-kv: HTML report -> " + html);
            }
        }
        return 0;
    }

    private List<int[]> readDocs(ModelRuntime engine) throws Exception {
        List<int[]> docs = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null && (limit == null || docs.size() < limit)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode d;
                try {
                    d = JSON.readTree(line);
                } catch (Exception e) {
                    System.err.printf("eval-kv: line %d skipped: not valid JSON%n", lineNo);
                    continue;
                }
                if (!d.path("text").isTextual()) {
                    System.err.printf("eval-kv: line %d skipped: no 'text' string%n", lineNo);
                    continue;
                }
                int[] ids = engine.tokenizer().encode(d.get("text").asText());
                docs.add(Arrays.copyOf(ids, Math.min(ids.length, maxTokens)));
            }
        }
        return docs;
    }

    static String table(KvEvaluation.Report r, double secs) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-34s %9s %9s %11s %9s %9s %9s%n", "kv", "nll", "ppl", "KL/fp16",
                "top1", "bits", "bits_all"));
        for (KvModeQuality q : r.modes()) {
            b.append(String.format(Locale.ROOT, "%-34s %9.4f %9.4f %11.6f %8.2f%% %9.4f %9.4f%n", q.kv(), q.nllMean(),
                    q.ppl(), q.klVsFp16(), 100 * q.top1VsFp16(), q.bitsPerElement(), q.bitsPerElementAll()));
        }
        b.append(String.format(Locale.ROOT, "%d documents, %d decoded positions per mode, %.0f s", r.nDocs(), r.nPositions(), secs));
        return b.toString();
    }
}
