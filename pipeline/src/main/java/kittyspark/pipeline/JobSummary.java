package kittyspark.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * What one run did: written as JSON next to the output ({@code _kitty_summary.json}, the last
 * run that committed rows, and {@code _kitty_runs/RUN.json}, every run) and printed as a
 * readable block. JSON keys are snake_case throughout.
 *
 * @param errorKinds       this run's error rows by {@link ErrorCode}, most rows first, ties by code
 * @param meanSequenceTokens prompt plus completion tokens of an ok row, on average (null: no ok row)
 * @param kvBytesPerToken  measured bytes per token of the cache format at {@code meanSequenceTokens} (null: nothing generated)
 * @param kvRatioToFp16    fp16's bytes per token over this mode's, at the same length (null: nothing generated)
 * @param kvRatioLong      the same ratio at {@code longTokens}, where the full-precision sink and recent-token
 *                         window no longer dominate
 */
public record JobSummary(
        String runId, String output, String model, String kv,
        long inputRows, long skippedRows, long okRows, long errorRows, Map<String, Long> finishReasons,
        List<ErrorKind> errorKinds, List<Integer> commits, long compactedRows,
        long promptTokens, long completionTokens, double wallSeconds, double generateSeconds,
        int engines, int enginesCreated, List<EngineLine> engineLines,
        double meanConcurrent, int maxConcurrent, Integer meanSequenceTokens, Double kvBytesPerToken, Double kvRatioToFp16,
        int longTokens, Double kvRatioLong, long kvPeakBytes, long peakHeapBytes,
        Double meanCompletionLogprob, long fidelityRows, Double meanRefLogprob, Double meanDeltaNll,
        Double meanTop1Agreement, Double meanKl, EngineUse engineUse) {

    /**
     * How well this run's engines were used, summed over them.
     *
     * @param steps           forward steps run
     * @param underfullSteps  steps whose batch was below 90% of what the engine could admit then
     * @param busySeconds     time with a step running
     * @param idleSeconds     time since an engine's first request without a step running
     * @param admissibleBatch most sequences one engine could admit for the run's rows (largest over engines)
     * @param kvPoolBytes     KV bytes the engines could fill, summed
     */
    public record EngineUse(long steps, long underfullSteps, double busySeconds, double idleSeconds, int admissibleBatch,
                            long kvPoolBytes) {
        public static final EngineUse NONE = new EngineUse(0, 0, 0, 0, 0, 0);

        public double underfullShare() {
            return steps == 0 ? 0 : (double) underfullSteps / steps;
        }

        public double busyFraction() {
            double all = busySeconds + idleSeconds;
            return all <= 0 ? 0 : busySeconds / all;
        }
    }

    /** Error kinds listed in the printed summary; the rest are counted in one "more" line. */
    static final int ERROR_KINDS_SHOWN = 10;

    /** One error code of the run: how many rows, and one of their messages. */
    public record ErrorKind(String code, long rows, String example) {
    }

    /** One engine's share of the run. */
    public record EngineLine(String executorId, String gpu, String device, String instance, boolean createdInRun,
                             long requests, long generatedTokens, double meanBatch, int maxConcurrent) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("executor_id", executorId);
            m.put("gpu", gpu);
            m.put("device", device);
            m.put("instance", instance);
            m.put("created_in_run", createdInRun);
            m.put("requests", requests);
            m.put("generated_tokens", generatedTokens);
            m.put("mean_batch", meanBatch);
            m.put("max_concurrent", maxConcurrent);
            return m;
        }
    }

    /** Whether this run generated and committed anything (a rerun with nothing to do does not). */
    public boolean didWork() {
        return !commits.isEmpty();
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
        Map<String, Object> rows = new LinkedHashMap<>();
        rows.put("input", inputRows);
        rows.put("skipped", skippedRows);
        rows.put("ok", okRows);
        rows.put("error", errorRows);
        m.put("rows", rows);
        m.put("finish_reasons", finishReasons);
        List<Map<String, Object>> errors = new ArrayList<>();
        for (ErrorKind e : errorKinds) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("error_code", e.code());
            k.put("rows", e.rows());
            k.put("example", e.example());
            errors.add(k);
        }
        m.put("errors", errors);
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
        c.put("per_engine", engineLines.stream().map(EngineLine::toMap).toList());
        m.put("concurrency", c);
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("steps", engineUse.steps());
        u.put("underfull_steps", engineUse.underfullSteps());
        u.put("underfull_step_share", engineUse.underfullShare());
        u.put("busy_seconds", engineUse.busySeconds());
        u.put("idle_seconds", engineUse.idleSeconds());
        u.put("busy_fraction", engineUse.busyFraction());
        u.put("admissible_batch", engineUse.admissibleBatch());
        u.put("kv_pool_bytes", engineUse.kvPoolBytes());
        m.put("engine_use", u);
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("mean_sequence_tokens", meanSequenceTokens);
        mem.put("kv_bytes_per_token", kvBytesPerToken);
        mem.put("kv_ratio_to_fp16", kvRatioToFp16);
        mem.put("long_sequence_tokens", longTokens);
        mem.put("kv_ratio_to_fp16_long", kvRatioLong);
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
        if (!didWork()) {
            line(b, "rows", String.format(Locale.ROOT, "%d input: nothing to do, all %d are in the output already"
                    + " (the output's summary is still the last run that generated rows)", inputRows, skippedRows));
            line(b, "time", String.format(Locale.ROOT, "%.1f s wall", wallSeconds));
            return b.toString();
        }
        line(b, "rows", String.format(Locale.ROOT, "%d input: %d ok, %d error, %d skipped (already in the output)",
                inputRows, okRows, errorRows, skippedRows));
        line(b, "finish reasons", finishReasons.toString());
        for (int i = 0; i < errorKinds.size() && i < ERROR_KINDS_SHOWN; i++) {
            ErrorKind e = errorKinds.get(i);
            line(b, "  " + e.code() + " x" + e.rows(), "e.g. " + e.example());
        }
        if (errorKinds.size() > ERROR_KINDS_SHOWN) {
            List<ErrorKind> rest = errorKinds.subList(ERROR_KINDS_SHOWN, errorKinds.size());
            line(b, "  ...", String.format(Locale.ROOT, "%d more error kinds (%d rows)", rest.size(),
                    rest.stream().mapToLong(ErrorKind::rows).sum()));
        }
        line(b, "tokens", String.format(Locale.ROOT, "%d in, %d out", promptTokens, completionTokens));
        line(b, "time", String.format(Locale.ROOT, "%.1f s wall, %.1f s generating", wallSeconds, generateSeconds));
        line(b, "throughput", String.format(Locale.ROOT, "%.1f tokens/s out, %.1f tokens/s in+out",
                outputTokensPerSecond(), totalTokensPerSecond()));
        line(b, "concurrency", String.format(Locale.ROOT, "per engine: mean %.1f, max %d sequences in flight; %d engine(s), %d created this run",
                meanConcurrent, maxConcurrent, engines, enginesCreated));
        line(b, "engine use", String.format(Locale.ROOT, "%d steps, %.0f%% below 90%% of the admissible batch (%d);"
                        + " busy %.1f s, idle %.1f s (busy %.0f%%); KV pool %.1f MiB, peak use %.1f MiB", engineUse.steps(),
                100 * engineUse.underfullShare(), engineUse.admissibleBatch(), engineUse.busySeconds(), engineUse.idleSeconds(),
                100 * engineUse.busyFraction(), engineUse.kvPoolBytes() / 1048576.0, kvPeakBytes / 1048576.0));
        for (EngineLine e : engineLines) {
            line(b, "  engine", String.format(Locale.ROOT, "executor %s, gpu %s, %s: %d rows, %d tokens, mean batch %.1f, max %d%s",
                    e.executorId(), e.gpu() == null ? "-" : e.gpu(), e.device(), e.requests(), e.generatedTokens(),
                    e.meanBatch(), e.maxConcurrent(), e.createdInRun() ? ", created this run" : ""));
        }
        line(b, "KV cache", kvText());
        line(b, "peak heap", String.format(Locale.ROOT, "%.0f MiB", peakHeapBytes / 1048576.0));
        line(b, "quality", String.format(Locale.ROOT, "mean completion logprob %s", fmt(meanCompletionLogprob)));
        line(b, "KV fidelity", fidelityRows == 0 ? "no rows checked (fp16 is the reference itself, or no row was sampled)"
                : String.format(Locale.ROOT, "%d rows vs fp16: KL %s, top-1 agreement %s, delta NLL %s (quantized minus fp16,"
                        + " on completions the quantized cache chose, so it leans negative; judge by KL and top-1)",
                fidelityRows, fmt(meanKl), fmt(meanTop1Agreement), fmt(meanDeltaNll)));
        line(b, "commits", commits + (compactedRows > 0 ? ", " + compactedRows + " superseded rows compacted" : ""));
        return b.toString();
    }

    private String kvText() {
        if (kvBytesPerToken == null) {
            return String.format(Locale.ROOT, "not measured (no row generated), peak %.1f MiB", kvPeakBytes / 1048576.0);
        }
        String ratio = String.format(Locale.ROOT, "%.0f bytes/token at this run's mean %d tokens: %.2fx smaller than fp16",
                kvBytesPerToken, meanSequenceTokens, kvRatioToFp16);
        if (kvRatioLong != null && kvRatioToFp16 != null && Math.abs(kvRatioLong - kvRatioToFp16) > 0.05) {
            ratio += String.format(Locale.ROOT, " (%.2fx at %d tokens: short sequences are mostly the full-precision sink"
                    + " and recent-token window)", kvRatioLong, longTokens);
        }
        return ratio + String.format(Locale.ROOT, ", peak %.1f MiB", kvPeakBytes / 1048576.0);
    }

    private static String fmt(Double d) {
        return d == null ? "-" : String.format(Locale.ROOT, "%.4f", d);
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "  %-16s %s%n", key, value));
    }
}
