package kittyspark.pipeline.plan;

import java.util.ArrayList;
import java.util.List;

import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.output.ErrorCode;
import kittyspark.runtime.sampling.SamplingParams;

/**
 * A row after its parameters are resolved against the job defaults: either the sampling
 * parameters to generate with, or why the row cannot be generated. The fingerprint names
 * everything that decides the output, so a rerun can tell a stale row from a current one.
 */
public record RowPlan(PromptRow row, SamplingParams params, String error, String fingerprint) {
    /** How the errors that {@link ErrorCode} tells apart begin. */
    static final String DUPLICATE_PREFIX = "duplicate id";
    static final String INVALID_PARAMETERS_PREFIX = "invalid parameters";

    public boolean ok() {
        return error == null;
    }

    /** The {@link ErrorCode} of a row whose plan failed (its id, prompt or parameters); null when it is ok. */
    public String errorCode() {
        if (error == null) {
            return null;
        }
        if (error.startsWith(DUPLICATE_PREFIX)) {
            return ErrorCode.DUPLICATE_ID;
        }
        return error.startsWith(INVALID_PARAMETERS_PREFIX) ? ErrorCode.INVALID_PARAMETERS : ErrorCode.INVALID_INPUT;
    }

    /** Resolves one row. Pure: the driver (for the fingerprint) and the executors get the same answer. */
    public static RowPlan of(PromptRow row, PipelineConfig cfg, String modelIdentity) {
        PipelineConfig.SamplingDefaults d = cfg.sampling();
        long maxNew = row.maxNewTokens() != null ? row.maxNewTokens() : d.maxNewTokens();
        double temperature = row.temperature() != null ? row.temperature() : d.temperature();
        double topP = row.topP() != null ? row.topP() : d.topP();
        long seed = row.seed() != null ? row.seed() : StableHash.derivedSeed(cfg.jobSeed(), row.key());
        List<String> stop = row.stop() != null ? row.stop() : d.stop();
        String fingerprint = fingerprint(row, cfg, modelIdentity, maxNew, temperature, topP, seed, stop);

        String error = inputError(row);
        SamplingParams params = null;
        if (error == null) {
            try {
                if (maxNew > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("max_new_tokens must fit in an int, got " + maxNew);
                }
                params = new SamplingParams((int) maxNew, temperature, d.topK(), topP, seed, stop);
            } catch (RuntimeException e) {
                error = INVALID_PARAMETERS_PREFIX + ": " + e.getMessage();
            }
        }
        return new RowPlan(row, params, error, fingerprint);
    }

    private static String inputError(PromptRow row) {
        if (row.id() == null) {
            return "id is null";
        }
        if (row.id().isEmpty()) {
            return "id is empty";
        }
        if (row.occurrence() > 1) {
            return DUPLICATE_PREFIX + " '" + row.id() + "' (occurrence " + row.occurrence()
                    + "): only the first row with this id is generated";
        }
        if (row.problem() != null) {
            return row.problem().message();
        }
        if (row.messages() == null && row.prompt() == null) {
            return "prompt is null";
        }
        if (row.messages() != null) {
            for (PromptRow.ChatMessage m : row.messages()) {
                if (m.role() == null || m.content() == null) {
                    return "messages: every message needs a non-null role and content";
                }
            }
        }
        return null;
    }

    private static String fingerprint(PromptRow row, PipelineConfig cfg, String modelIdentity, long maxNew,
                                      double temperature, double topP, long seed, List<String> stop) {
        List<String> parts = new ArrayList<>();
        parts.add("v2"); // v2: the output gained sampling, kv_params, timestamps, error codes
        parts.add("model=" + modelIdentity);
        parts.add("kv=" + cfg.kv().describe());
        parts.add("truncate=" + (cfg.truncateLeft() ? "left" : "none") + ",max=" + cfg.maxPromptTokens());
        parts.add("prompt=" + (row.prompt() == null ? "<null>" : StableHash.sha256Hex(row.prompt())));
        if (row.messages() != null) {
            StringBuilder m = new StringBuilder();
            for (PromptRow.ChatMessage msg : row.messages()) {
                m.append(msg.role()).append('\u0001').append(msg.content()).append('\u0002');
            }
            parts.add("messages=" + StableHash.sha256Hex(m.toString()));
        }
        parts.add("max_new_tokens=" + maxNew);
        parts.add("temperature=" + temperature);
        parts.add("top_k=" + cfg.sampling().topK());
        parts.add("top_p=" + topP);
        parts.add("seed=" + seed);
        parts.add("stop=" + String.join("\u0001", stop));
        if (row.problem() != null) {
            // The unusable value is null in the row: its digest makes a corrected value a new fingerprint.
            parts.add("problem=" + row.problem().message() + "@" + row.problem().valueDigest());
        }
        return StableHash.sha256Hex(String.join("|", parts));
    }
}
