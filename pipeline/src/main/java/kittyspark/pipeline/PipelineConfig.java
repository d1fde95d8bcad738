package kittyspark.pipeline;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.kv.KvSettings;

/**
 * Everything one generation run needs to know, already validated. The {@code jobs} module
 * builds it from HOCON; the pipeline never reads configuration files itself.
 *
 * @param modelDir       Hugging Face model directory, as seen by the executors
 * @param weightsDigest  how much of the weights the model identity (and so every fingerprint) reads
 * @param columns        input column names
 * @param sampling       job-wide sampling defaults (a non-null per-row value wins)
 * @param jobSeed        mixed with each row's id to seed rows that give no seed
 * @param kv             KV-cache mode and its settings
 * @param truncateLeft   a prompt longer than the context is cut from the left instead of being an error
 * @param maxPromptTokens most prompt tokens a row may have (0: the model's context minus one)
 * @param fidelityFraction share of rows (chosen from the id) re-scored against a full-precision cache
 * @param engine         how executors build their engine
 * @param run            partitioning, commit size, progress, retries
 */
public record PipelineConfig(String modelDir, WeightsDigest weightsDigest, Columns columns, SamplingDefaults sampling, long jobSeed,
                             KvSettings kv, boolean truncateLeft, int maxPromptTokens, double fidelityFraction,
                             EngineSettings engine, RunSettings run) implements Serializable {

    public PipelineConfig {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(weightsDigest, "weightsDigest");
        Objects.requireNonNull(columns, "columns");
        Objects.requireNonNull(sampling, "sampling");
        Objects.requireNonNull(kv, "kv");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(run, "run");
        if (maxPromptTokens < 0) {
            throw new IllegalArgumentException("max prompt tokens must be >= 0, got " + maxPromptTokens);
        }
        if (!(fidelityFraction >= 0.0 && fidelityFraction <= 1.0)) {
            throw new IllegalArgumentException("fidelity fraction must be in [0, 1], got " + fidelityFraction);
        }
    }

    /** How the model identity digests the weights: every byte, or headers plus samples of every tensor. */
    public enum WeightsDigest {
        FULL, SAMPLED;

        public static WeightsDigest parse(String s) {
            for (WeightsDigest d : values()) {
                if (d.name().equalsIgnoreCase(s)) {
                    return d;
                }
            }
            throw new IllegalArgumentException("must be full or sampled, got '" + s + "'");
        }
    }

    /** Names of the input columns that carry the id, the prompt and the optional chat messages. */
    public record Columns(String id, String prompt, String messages) implements Serializable {
        public Columns {
            if (id == null || id.isBlank() || prompt == null || prompt.isBlank() || messages == null || messages.isBlank()) {
                throw new IllegalArgumentException("id, prompt and messages column names must be non-empty");
            }
        }
    }

    /** Job-wide defaults for the per-row sampling parameters. */
    public record SamplingDefaults(int maxNewTokens, double temperature, int topK, double topP, List<String> stop)
            implements Serializable {
        public SamplingDefaults {
            stop = stop == null ? List.of() : List.copyOf(stop);
        }
    }

    /**
     * @param device          "auto" (the task's GPU if Spark assigned one, else CPU; a GPU without
     *                        usable CUDA falls back to the CPU backend with a warning), "cpu",
     *                        "cuda" (the task's GPU, no fallback) or "cuda:N"
     * @param threads         CPU backend threads (0: one per core of the JVM)
     * @param maxBatch        most sequences one engine decodes together (0: from the device and KV mode, {@code BatchDefaults})
     * @param kvBudgetBytes   KV memory per engine (0: derived from the device)
     * @param prefillChunk    most prompt tokens per forward step and sequence
     */
    /** @param cuda the CUDA backend's tuning ({@code kitty.engine.cuda.*}); its pool KV mode is replaced by the job's */
    public record EngineSettings(String device, int threads, int maxBatch, long kvBudgetBytes, int prefillChunk,
                                 CudaOptions cuda) implements Serializable {
        public EngineSettings(String device, int threads, int maxBatch, long kvBudgetBytes, int prefillChunk) {
            this(device, threads, maxBatch, kvBudgetBytes, prefillChunk, CudaOptions.DEFAULTS);
        }

        public EngineSettings {
            if (maxBatch < 0) {
                throw new IllegalArgumentException("max batch must be >= 0 (0: from the device), got " + maxBatch);
            }
            if (cuda == null) {
                cuda = CudaOptions.DEFAULTS;
            }
            if (device == null || !(device.equals("auto") || device.equals("cpu") || device.equals("cuda")
                    || device.matches("cuda:\\d+"))) {
                throw new IllegalArgumentException("engine device must be auto, cpu, cuda or cuda:N, got '" + device + "'");
            }
        }
    }

    /**
     * @param partitions       partitions to spread the rows over (0: twice Spark's default parallelism)
     * @param maxInFlightPerTask most rows one task holds, sent and not yet returned (bounds memory; 0: the engine's max batch
     *                         and a quarter more, twice: one task alone can fill the engine); how many rows all tasks keep in
     *                         the engine follows its capacity ({@code AdmissionGate})
     * @param commitRows       rows per output commit; a killed job keeps every finished commit
     * @param progressInterval how often each executor logs a progress line
     * @param retryErrors      also redo rows whose previous output is an error
     * @param lockStaleAfter   an output lock whose holder gave no sign of life for this long may be taken over
     */
    public record RunSettings(int partitions, int maxInFlightPerTask, int commitRows, Duration progressInterval,
                              boolean retryErrors, Duration lockStaleAfter) implements Serializable {
        public RunSettings {
            if (partitions < 0 || maxInFlightPerTask < 0 || commitRows <= 0) {
                throw new IllegalArgumentException("partitions >= 0, max in-flight >= 0 and commit rows > 0 required");
            }
            Objects.requireNonNull(progressInterval, "progressInterval");
            Objects.requireNonNull(lockStaleAfter, "lockStaleAfter");
            if (lockStaleAfter.isNegative() || lockStaleAfter.isZero()) {
                throw new IllegalArgumentException("lock stale-after must be positive, got " + lockStaleAfter);
            }
        }

        public RunSettings withRetryErrors(boolean r) {
            return new RunSettings(partitions, maxInFlightPerTask, commitRows, progressInterval, r, lockStaleAfter);
        }

        public RunSettings withCommitRows(int n) {
            return new RunSettings(partitions, maxInFlightPerTask, n, progressInterval, retryErrors, lockStaleAfter);
        }
    }

    public PipelineConfig withWeightsDigest(WeightsDigest w) {
        return new PipelineConfig(modelDir, w, columns, sampling, jobSeed, kv, truncateLeft, maxPromptTokens, fidelityFraction, engine, run);
    }

    public PipelineConfig withModelDir(String dir) {
        return new PipelineConfig(dir, weightsDigest, columns, sampling, jobSeed, kv, truncateLeft, maxPromptTokens, fidelityFraction, engine, run);
    }

    public PipelineConfig withRun(RunSettings r) {
        return new PipelineConfig(modelDir, weightsDigest, columns, sampling, jobSeed, kv, truncateLeft, maxPromptTokens, fidelityFraction, engine, r);
    }

    public PipelineConfig withSampling(SamplingDefaults s) {
        return new PipelineConfig(modelDir, weightsDigest, columns, s, jobSeed, kv, truncateLeft, maxPromptTokens, fidelityFraction, engine, run);
    }

    public PipelineConfig withFidelityFraction(double f) {
        return new PipelineConfig(modelDir, weightsDigest, columns, sampling, jobSeed, kv, truncateLeft, maxPromptTokens, f, engine, run);
    }

    public PipelineConfig withTruncateLeft(boolean t) {
        return new PipelineConfig(modelDir, weightsDigest, columns, sampling, jobSeed, kv, t, maxPromptTokens, fidelityFraction, engine, run);
    }

    public PipelineConfig withMaxPromptTokens(int m) {
        return new PipelineConfig(modelDir, weightsDigest, columns, sampling, jobSeed, kv, truncateLeft, m, fidelityFraction, engine, run);
    }

    public PipelineConfig withKv(KvSettings k) {
        return new PipelineConfig(modelDir, weightsDigest, columns, sampling, jobSeed, k, truncateLeft, maxPromptTokens, fidelityFraction, engine, run);
    }

    public PipelineConfig withEngine(EngineSettings e) {
        return new PipelineConfig(modelDir, weightsDigest, columns, sampling, jobSeed, kv, truncateLeft, maxPromptTokens, fidelityFraction, e, run);
    }
}
