package kittyspark.pipeline.output;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The output rows: every input column, then what generation adds, in this order. The
 * contract (types, units, signs, when a value is null) is docs/output.md; a test holds this
 * schema to that page.
 */
public final class OutputSchema {
    public static final String COMPLETION = "completion";
    public static final String FINISH_REASON = "finish_reason";
    /** The stop string that ended the completion (finish_reason = stop). */
    public static final String STOP_MATCHED = "stop_matched";
    /** A stable, machine-readable kind of error ({@link ErrorCode}); the message is in {@link #ERROR}. */
    public static final String ERROR_CODE = "error_code";
    public static final String ERROR = "error";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String COMPLETION_TOKENS = "completion_tokens";
    /** The sampling parameters the row was generated with, after job defaults filled its nulls. */
    public static final String SAMPLING = "sampling";
    public static final String MODEL = "model";
    public static final String KV_MODE = "kv_mode";
    /** The quantized cache's settings (null for fp16). */
    public static final String KV_PARAMS = "kv_params";
    public static final String RUN_ID = "run_id";
    public static final String STARTED_AT = "started_at";
    public static final String FINISHED_AT = "finished_at";
    public static final String QUEUE_MS = "queue_ms";
    public static final String PREFILL_MS = "prefill_ms";
    public static final String DECODE_MS = "decode_ms";
    public static final String MEAN_LOGPROB = "completion_mean_logprob";
    public static final String KV_REF_MEAN_LOGPROB = "kv_ref_mean_logprob";
    public static final String KV_DELTA_NLL = "kv_delta_nll";
    public static final String KV_TOP1 = "kv_top1_agreement";
    public static final String KV_KL = "kv_kl";
    /** Hash of everything that decided this row (model, prompt, sampling, KV settings). */
    public static final String FINGERPRINT = "fingerprint";
    /** 1 for the first row with an id; duplicates count up (and are error rows). */
    public static final String ID_OCCURRENCE = "id_occurrence";
    /** Which executor, GPU and engine instance produced the row. */
    public static final String ENGINE = "engine";
    /** The output commit (a directory kitty_commit=N) that holds the row. */
    public static final String COMMIT = "kitty_commit";

    public static final String ENGINE_EXECUTOR_ID = "executor_id";
    public static final String ENGINE_GPU = "gpu";
    public static final String ENGINE_DEVICE = "device";
    public static final String ENGINE_INSTANCE = "instance";

    public static final StructType ENGINE_TYPE = new StructType()
            .add(ENGINE_EXECUTOR_ID, DataTypes.StringType)
            .add(ENGINE_GPU, DataTypes.StringType)
            .add(ENGINE_DEVICE, DataTypes.StringType)
            .add(ENGINE_INSTANCE, DataTypes.StringType);

    public static final StructType SAMPLING_TYPE = new StructType()
            .add("max_new_tokens", DataTypes.IntegerType, false)
            .add("temperature", DataTypes.DoubleType, false)
            .add("top_k", DataTypes.IntegerType, false)
            .add("top_p", DataTypes.DoubleType, false)
            .add("seed", DataTypes.LongType, false)
            .add("stop", DataTypes.createArrayType(DataTypes.StringType, false), false);

    public static final StructType KV_PARAMS_TYPE = new StructType()
            .add("page_size", DataTypes.IntegerType, false)
            .add("boost_fraction", DataTypes.DoubleType, false)
            .add("sink", DataTypes.IntegerType, false)
            .add("value_window", DataTypes.IntegerType, false);

    public static final StructType ADDED = new StructType()
            .add(COMPLETION, DataTypes.StringType)
            .add(FINISH_REASON, DataTypes.StringType, false)
            .add(STOP_MATCHED, DataTypes.StringType)
            .add(ERROR_CODE, DataTypes.StringType)
            .add(ERROR, DataTypes.StringType)
            .add(PROMPT_TOKENS, DataTypes.IntegerType)
            .add(COMPLETION_TOKENS, DataTypes.IntegerType)
            .add(SAMPLING, SAMPLING_TYPE)
            .add(MODEL, DataTypes.StringType, false)
            .add(KV_MODE, DataTypes.StringType, false)
            .add(KV_PARAMS, KV_PARAMS_TYPE)
            .add(RUN_ID, DataTypes.StringType, false)
            .add(STARTED_AT, DataTypes.TimestampType, false)
            .add(FINISHED_AT, DataTypes.TimestampType, false)
            .add(QUEUE_MS, DataTypes.DoubleType)
            .add(PREFILL_MS, DataTypes.DoubleType)
            .add(DECODE_MS, DataTypes.DoubleType)
            .add(MEAN_LOGPROB, DataTypes.DoubleType)
            .add(KV_REF_MEAN_LOGPROB, DataTypes.DoubleType)
            .add(KV_DELTA_NLL, DataTypes.DoubleType)
            .add(KV_TOP1, DataTypes.DoubleType)
            .add(KV_KL, DataTypes.DoubleType)
            .add(FINGERPRINT, DataTypes.StringType, false)
            .add(ID_OCCURRENCE, DataTypes.IntegerType, false)
            .add(ENGINE, ENGINE_TYPE, false);

    public static final List<String> ADDED_COLUMNS;

    static {
        List<String> names = new ArrayList<>(List.of(ADDED.fieldNames()));
        names.add(COMMIT);
        ADDED_COLUMNS = List.copyOf(names);
    }

    private OutputSchema() {
    }

    public static StructType of(StructType input) {
        StructType out = input;
        for (StructField f : ADDED.fields()) {
            out = out.add(f);
        }
        return out;
    }
}
