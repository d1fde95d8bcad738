package kittyspark.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * What one run did: written as JSON next to the output ({@code _kitty_summary.json}) and
 * printed as a readable block.
 */
public record JobSummary(
        String runId, String output, String model, String kv,
        long inputRows, long skippedRows, long okRows, long errorRows, Map<String, Long> finishReasons,
        Map<String, Long> topErrors, List<Integer> commits, long compactedRows,
        long promptTokens, long completionTokens, double wallSeconds, double generateSeconds,
        int engines, int enginesCreated, List<EngineLine> engineLines,
        double meanConcurrent, int maxConcurrent, double kvBytesPerToken, double kvRatioToFp16,
        long kvPeakBytes, long peakHeapBytes,
        Double meanCompletionLogprob, long fidelityRows, Double meanRefLogprob, Double meanDeltaNll,
        Double meanTop1Agreement, Double meanKl) {

    /** One engine's share of the run. */
    public record EngineLine(String executorId, String gpu, String device, String instance, boolean createdInRun,
                             long requests, long generatedTokens, double meanBatch, int maxConcurrent) {
    }

    public double outputTokensPerSecond() {
        return generateSeconds <= 0 ? 0 : completionTokens / generateSeconds;
    }

    public double totalTokensPerSecond() {
        return generateSeconds <= 0 ? 0 : (promptTokens + completionTokens) / generateSeconds;
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run_id", runId);
        m.put("output", output);
        m.put("model", model);
        m.put("kv", kv);
        m.put("rows", Map.of("input", inputRows, "skipped", skippedRows, "ok", okRows, "error", errorRows));
        m.put("finish_reasons", finishReasons);
        m.put("top_errors", topErrors);
        m.put("commits", commits);
        m.put("compacted_rows", compactedRows);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("prompt_tokens", promptTokens);
        t.put("completion_tokens", completionTokens);
        t.put("wall_seconds", wallSeconds);
        t.put("generate_seconds", generateSeconds);
        t.put("completion_tokens_per_second", outputTokensPerSecond());
        t.put("total_tokens_per_second", totalTokensPerSecond());
        m.put("throughput", t);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("engines", engines);
        c.put("engines_created", enginesCreated);
        c.put("mean_concurrent_sequences", meanConcurrent);
        c.put("max_concurrent_sequences", maxConcurrent);
        c.put("per_engine", engineLines);
        m.put("concurrency", c);
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("kv_bytes_per_token", kvBytesPerToken);
        mem.put("kv_ratio_to_fp16", kvRatioToFp16);
        mem.put("kv_peak_bytes", kvPeakBytes);
        mem.put("peak_heap_bytes", peakHeapBytes);
        m.put("memory", mem);
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("mean_completion_logprob", meanCompletionLogprob);
        q.put("fidelity_rows", fidelityRows);
        q.put("mean_kv_ref_logprob", meanRefLogprob);
        q.put("mean_kv_delta_nll", meanDeltaNll);
        q.put("mean_kv_top1_agreement", meanTop1Agreement);
        q.put("mean_kv_kl", meanKl);
        m.put("quality", q);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append("== kitty-spark generate: ").append(runId).append(" ==\n");
        line(b, "output", output);
        line(b, "model / kv", model + " / " + kv);
        line(b, "rows", String.format(Locale.ROOT, "%d input: %d ok, %d error, %d skipped (already in the output)",
                inputRows, okRows, errorRows, skippedRows));
        line(b, "finish reasons", finishReasons.toString());
        if (!topErrors.isEmpty()) {
            topErrors.forEach((msg, n) -> line(b, "  error x" + n, msg));
        }
        line(b, "tokens", String.format(Locale.ROOT, "%d in, %d out", promptTokens, completionTokens));
        line(b, "time", String.format(Locale.ROOT, "%.1f s wall, %.1f s generating", wallSeconds, generateSeconds));
        line(b, "throughput", String.format(Locale.ROOT, "%.1f tokens/s out, %.1f tokens/s in+out",
                outputTokensPerSecond(), totalTokensPerSecond()));
        line(b, "concurrency", String.format(Locale.ROOT, "per engine: mean %.1f, max %d sequences in flight; %d engine(s), %d created this run",
                meanConcurrent, maxConcurrent, engines, enginesCreated));
        for (EngineLine e : engineLines) {
            line(b, "  engine", String.format(Locale.ROOT, "executor %s, gpu %s, %s: %d rows, %d tokens, mean batch %.1f, max %d",
                    e.executorId(), e.gpu() == null ? "-" : e.gpu(), e.device(), e.requests(), e.generatedTokens(),
                    e.meanBatch(), e.maxConcurrent()));
        }
        line(b, "KV cache", String.format(Locale.ROOT, "%.0f bytes/token (%.2fx smaller than fp16), peak %.1f MiB",
                kvBytesPerToken, kvRatioToFp16, kvPeakBytes / 1048576.0));
        line(b, "peak heap", String.format(Locale.ROOT, "%.0f MiB", peakHeapBytes / 1048576.0));
        line(b, "quality", String.format(Locale.ROOT, "mean completion logprob %s", fmt(meanCompletionLogprob)));
        line(b, "KV fidelity", fidelityRows == 0 ? "no rows checked" : String.format(Locale.ROOT,
                "%d rows: delta NLL %s, top-1 agreement %s, KL %s", fidelityRows, fmt(meanDeltaNll),
                fmt(meanTop1Agreement), fmt(meanKl)));
        line(b, "commits", commits.isEmpty() ? "none (nothing to do)" : commits.toString()
                + (compactedRows > 0 ? ", " + compactedRows + " superseded rows compacted" : ""));
        return b.toString();
    }

    private static String fmt(Double d) {
        return d == null ? "-" : String.format(Locale.ROOT, "%.4f", d);
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "  %-16s %s%n", key, value));
    }
}
