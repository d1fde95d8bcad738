package kittyspark.pipeline.executor;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import kittyspark.pipeline.PipelineConfig;
import kittyspark.pipeline.output.EngineRef;
import kittyspark.runtime.engine.EngineOptions;
import kittyspark.runtime.engine.EngineStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines of this JVM: one per model and device, created by the first task that needs
 * it and shared by every later task, so the sequences of concurrent partitions batch
 * together in one scheduler. Engines live as long as the executor (loading a model per task
 * would dominate the run).
 */
public final class ExecutorEngines {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);
    private static final Map<String, Shared> ENGINES = new ConcurrentHashMap<>();

    private ExecutorEngines() {
    }

    /** An engine and what the executor tracks about it. */
    public static final class Shared {
        final GenerationService service;
        final EngineRef ref;
        /** Every task of this engine sends its rows through this gate. */
        final AdmissionGate gate;
        /**
         * Most rows one task holds: twice the gate's target at the max batch, so a task alone keeps the
         * engine full even while rows that finished behind its oldest one wait to be returned in order.
         */
        final int maxHeldPerTask;
        final AtomicLong rowsDone = new AtomicLong();
        final Map<String, EngineReport.Counters> baselines = new ConcurrentHashMap<>();
        final ScheduledExecutorService progress;
        volatile long peakHeapBytes;

        Shared(GenerationService service, EngineRef ref, java.time.Duration interval, int maxBatch, int maxInFlightPerTask) {
            this.service = service;
            this.ref = ref;
            this.gate = new AdmissionGate(service::capacity);
            this.maxHeldPerTask = maxInFlightPerTask > 0 ? maxInFlightPerTask : 2 * (maxBatch + Math.max(2, maxBatch / 4));
            this.progress = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "kitty-progress-" + ref.device());
                t.setDaemon(true);
                return t;
            });
            long ms = Math.max(1, interval.toMillis());
            progress.scheduleAtFixedRate(new ProgressLine(), ms, ms, TimeUnit.MILLISECONDS);
        }

        public GenerationService service() {
            return service;
        }

        public EngineRef ref() {
            return ref;
        }

        /** Counters when the given run first touched this engine. */
        EngineReport.Counters baseline(String runId) {
            return baselines.computeIfAbsent(runId, k -> EngineReport.Counters.of(service.stats()));
        }

        void sampleHeap() {
            long used = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    used += pool.getPeakUsage().getUsed();
                }
            }
            peakHeapBytes = Math.max(peakHeapBytes, used);
        }

        /** One progress line: rows, the engine's load against what it can hold, throughput, KV and utilisation. */
        String line(EngineStats s, double promptPerS, double generatedPerS) {
            return String.format(java.util.Locale.ROOT, "kitty progress [executor %s, gpu %s, %s]: %d rows done;"
                            + " %d active sequences of %d admissible, %d queued (%d rows sent by tasks);"
                            + " %.0f prompt + %.0f generated tokens/s; KV %.1f of %s MiB; engine busy %.0f%%,"
                            + " %.0f%% of steps at a full batch",
                    ref.executorId(), ref.gpu() == null ? "-" : ref.gpu(), ref.device(), rowsDone.get(), s.activeSequences(),
                    s.admissibleBatch(), s.waitingRequests(), gate.inEngine(), promptPerS, generatedPerS,
                    s.kvBytesInUse() / 1048576.0, s.kvPoolBytes() > 0 ? String.format(java.util.Locale.ROOT, "%.1f",
                            s.kvPoolBytes() / 1048576.0) : "?", 100 * nanToZero(s.busyFraction()),
                    100 * nanToZero(s.fullBatchFraction()));
        }

        private static double nanToZero(double v) {
            return Double.isNaN(v) ? 0 : v;
        }

        /** The periodic progress line of this executor's engine. */
        private final class ProgressLine implements Runnable {
            private long lastPrompt;
            private long lastTokens;
            private long lastNanos = System.nanoTime();

            @Override
            public void run() {
                try {
                    EngineStats s = service.stats();
                    long now = System.nanoTime();
                    double secs = Math.max(1e-9, (now - lastNanos) / 1e9);
                    // Prompt tokens count too: a step that only prefills is work, not 0 tokens/s.
                    double prompt = (s.promptTokens() - lastPrompt) / secs;
                    double generated = (s.generatedTokens() - lastTokens) / secs;
                    lastPrompt = s.promptTokens();
                    lastTokens = s.generatedTokens();
                    lastNanos = now;
                    sampleHeap();
                    if (s.activeSequences() > 0 || prompt > 0 || generated > 0) {
                        LOG.info(line(s, prompt, generated));
                    }
                } catch (RuntimeException e) {
                    LOG.debug("progress line failed", e);
                }
            }
        }
    }

    /** The result of {@link #acquire}: the engine, and whether this call created it. */
    public record Acquired(Shared shared, boolean created) {
    }

    /** This JVM's engine for the config and device, opening it on first use. */
    public static Acquired acquire(PipelineConfig cfg, DeviceChoice choice, String executorId, EngineFactory factory) {
        String key = cfg.modelDir() + "|" + choice + "|" + cfg.engine();
        boolean[] created = {false};
        Shared shared = ENGINES.computeIfAbsent(key, k -> {
            created[0] = true;
            return open(cfg, choice, executorId, factory);
        });
        return new Acquired(shared, created[0]);
    }

    private static Shared open(PipelineConfig cfg, DeviceChoice choice, String executorId, EngineFactory factory) {
        PipelineConfig.EngineSettings e = cfg.engine();
        // The executor's CUDA pools hold the job's KV mode (quantized pages for kivi/kitty).
        EngineOptions options = new EngineOptions(Path.of(cfg.modelDir()), choice.device(), e.threads(),
                BatchDefaults.of(e.maxBatch(), choice.device(), cfg.kv()),
                e.kvBudgetBytes(), e.prefillChunk(), e.cuda().withPoolKv(cfg.kv()));
        GenerationService service;
        try {
            service = factory.open(options);
        } catch (RuntimeException | LinkageError failure) {
            if (!choice.cpuFallback()) {
                throw failure;
            }
            // kitty.engine.device = auto: a GPU Spark assigned us but cannot drive (no CUDA driver,
            // e.g. a fake GPU in tests) still runs, on the CPU backend, and says so.
            LOG.warn("kitty: GPU {} ({}) is not usable: {}; kitty.engine.device = auto, so this executor uses the CPU backend",
                    choice.gpu(), choice.device(), failure.toString());
            service = factory.open(options.withDevice("cpu").withMaxBatch(BatchDefaults.of(e.maxBatch(), "cpu", cfg.kv())));
        }
        EngineRef ref = new EngineRef(executorId, choice.gpu(), service.device(), UUID.randomUUID().toString());
        LOG.info("kitty: executor {} opened engine {} for model {} on {} (gpu {})", executorId, ref.instance(),
                service.modelName(), service.device(), choice.gpu());
        int maxBatch = BatchDefaults.of(e.maxBatch(), service.device(), cfg.kv());
        return new Shared(service, ref, cfg.run().progressInterval(), maxBatch, cfg.run().maxInFlightPerTask());
    }

    /** Closes every engine of this JVM (tests; executors simply exit). */
    public static synchronized void closeAll() {
        for (Shared s : ENGINES.values()) {
            s.progress.shutdownNow();
            s.service.close();
        }
        ENGINES.clear();
    }
}
