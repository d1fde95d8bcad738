package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching over one backend. Requests from any number of threads queue up; one
 * scheduler thread admits them while there is room (batch size and KV budget), feeds new
 * prompts in chunks alongside the running sequences' decode tokens in the same step, samples,
 * and retires finished sequences at once so their KV memory goes to the next request.
 */
public final class GenerationEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationEngine.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A fidelity batch's tokens, in prefill chunks: bounds its prefill's activations. */
    private static final int FIDELITY_BATCH_CHUNKS = 8;
    /** Generation steps a fidelity request waits at most for others to share its batch. */
    private static final int FIDELITY_MAX_WAIT_STEPS = 32;
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Most logits kept for one request (floats): longer completions are re-scored instead. */
    private static final long MAX_KEPT_LOGITS = 1L << 22;

    private final Backend backend;
    private final Tokenizer tokenizer;
    private final EngineOptions options;
    private final String modelName;
    private final StopRules rules;
    private final LinkedBlockingDeque<RunningSequence> pending = new LinkedBlockingDeque<>();
    private final List<RunningSequence> running = new ArrayList<>();
    private final Scheduler scheduler;
    /** Fidelity re-scoring, which needs the backend outside a step: run by the scheduler thread. */
    private final FidelityQueue fidelity;
    private final Thread loop;
    private final EngineCounters counters;
    private volatile boolean closed;

    public GenerationEngine(Backend backend, Tokenizer tokenizer, EngineOptions options, String modelName, Set<Integer> eosIds) {
        this(backend, tokenizer, options, modelName, eosIds, System::nanoTime);
    }

    /** With the clock that busy and idle time are read from (tests script it). */
    GenerationEngine(Backend backend, Tokenizer tokenizer, EngineOptions options, String modelName, Set<Integer> eosIds,
                     EngineCounters.Clock clock) {
        this.counters = new EngineCounters(clock);
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.options = options;
        this.modelName = modelName;
        this.rules = new StopRules(eosIds, backend.config().maxPositionEmbeddings());
        this.scheduler = new Scheduler(backend, options, counters);
        this.fidelity = new FidelityQueue(options.maxBatch(), FIDELITY_BATCH_CHUNKS * (long) options.prefillChunk(),
                FIDELITY_MAX_WAIT_STEPS);
        this.loop = new Thread(this::loop, "kitty-scheduler-" + backend.device());
        this.loop.setDaemon(true);
        this.loop.start();
    }

    /** Loads the checkpoint and tokenizer of {@code options.modelDir()} and starts the engine. */
    public static GenerationEngine open(EngineOptions options) {
        ModelRuntime m = ModelRuntime.open(options);
        LOG.info("engine on {}: max batch {}", m.backend().device(), options.maxBatch());
        return new GenerationEngine(m.backend(), m.tokenizer(), options, m.modelName(), m.eosIds());
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelConfig config() {
        return backend.config();
    }

    public Backend backend() {
        return backend;
    }

    public String modelName() {
        return modelName;
    }

    public EngineOptions options() {
        return options;
    }

    public EngineStats stats() {
        return counters.snapshot();
    }

    /**
     * How many sequences of mode {@code kv} with {@code promptTokens} prompt tokens and up to
     * {@code maxNewTokens} new ones this engine runs at once: admission's own limits (max batch,
     * the exact KV bytes of the mode against the budget, the backend's pools). 0 when even an
     * empty engine cannot hold one (such a request is refused).
     */
    public int capacity(KvSettings kv, int promptTokens, int maxNewTokens) {
        return scheduler.capacity(kv, scheduler.worstCaseTokens(promptTokens, maxNewTokens));
    }

    /**
     * Queues a request. Never throws for a bad request: the future completes with an error
     * result instead, so one bad row cannot fail its neighbours.
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        CompletableFuture<GenerationResult> f = new CompletableFuture<>();
        String problem = validate(request);
        if (problem != null) {
            f.complete(GenerationResult.failed(request.id(), request.prompt().length, problem));
            counters.requestDone();
            return f;
        }
        if (closed) {
            f.complete(GenerationResult.failed(request.id(), request.prompt().length, "engine is closed"));
            return f;
        }
        counters.submitted();
        pending.add(new RunningSequence(request, f, System.nanoTime()));
        counters.waiting(pending.size());
        LockSupport.unpark(loop);
        return f;
    }

    /**
     * Teacher-forced fidelity of a completion under {@code kv} against the full-precision cache.
     * Thread-safe: the scheduler thread runs it between two steps, so it never races a step
     * for the device or the KV pools.
     */
    public KvFidelity.Result fidelity(int[] prompt, int[] completion, KvSettings kv) {
        try {
            return fidelityAsync(prompt, completion, kv).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /**
     * As {@link #fidelity}, without waiting: the scheduler measures the queued requests together,
     * between two steps, once it has no generation to do, a batch is full, or the oldest has
     * waited a few dozen steps; so requests made as completions finish (rather than one after
     * another, each awaited) share their re-scoring's forward steps.
     */
    public CompletableFuture<KvFidelity.Result> fidelityAsync(int[] prompt, int[] completion, KvSettings kv) {
        return fidelityAsync(new KvFidelity.Request(prompt, completion, kv));
    }

    /**
     * As {@link #fidelityAsync(int[], int[], KvSettings)} for a result of this engine: where it
     * kept its logits ({@link GenerationRequest#keepLogits}), they are the quantized pass.
     */
    public CompletableFuture<KvFidelity.Result> fidelityAsync(int[] prompt, GenerationResult result, KvSettings kv) {
        return fidelityAsync(new KvFidelity.Request(prompt, result.tokens(), kv, result.logits()));
    }

    private CompletableFuture<KvFidelity.Result> fidelityAsync(KvFidelity.Request request) {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
        CompletableFuture<KvFidelity.Result> f = fidelity.add(request);
        LockSupport.unpark(loop);
        if (!loop.isAlive()) {
            fidelity.runQueued(backend); // closed meanwhile: nobody else will run it
        }
        return f;
    }

    private String validate(GenerationRequest r) {
        int context = backend.config().maxPositionEmbeddings();
        if (r.prompt().length >= context) {
            return "prompt has " + r.prompt().length + " tokens; the model's context is " + context
                    + " (leave room for at least one new token)";
        }
        String unsupported = backend.unsupported(r.kv());
        if (unsupported != null) {
            return unsupported;
        }
        int vocab = backend.config().vocabSize();
        for (int t : r.prompt()) {
            if (t < 0 || t >= vocab) {
                return "prompt token id " + t + " is outside the vocabulary (" + vocab + ")";
            }
        }
        return null;
    }

    private void loop() {
        while (!closed) {
            try {
                if (fidelity.due(running.isEmpty() && pending.isEmpty())) {
                    fidelity.runQueued(backend);
                }
                admit();
                if (!running.isEmpty()) {
                    step();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // A failed step fails the sequences in it, never the engine.
                LOG.error("engine step failed; failing {} sequences", running.size(), e);
                for (RunningSequence s : running) {
                    finishWithError(s, "engine step failed: " + e);
                }
                running.clear();
            }
        }
        for (RunningSequence s : running) {
            finishWithError(s, "engine closed");
        }
        RunningSequence s;
        while ((s = pending.poll()) != null) {
            finishWithError(s, "engine closed");
        }
        fidelity.runQueued(backend); // a fidelity call that raced close still gets its answer
    }

    private void admit() throws InterruptedException {
        if (running.isEmpty()) {
            // Idle: wait a little for work instead of spinning (submit and fidelityAsync wake it).
            if (pending.isEmpty() && fidelity.isEmpty()) {
                LockSupport.parkNanos(this, IDLE_WAIT_NANOS);
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (pending.isEmpty()) {
                return;
            }
        }
        scheduler.admit(pending, running, this::start, this::finishWithError);
        counters.active(running.size());
        counters.waiting(pending.size());
    }

    private void start(RunningSequence s) {
        s.admittedNanos = System.nanoTime();
        if (s.request.params().maxNewTokens() == 0) {
            s.finish = FinishReason.LENGTH;
            s.prefillDoneNanos = s.admittedNanos;
            complete(s);
            return;
        }
        s.state = backend.newSequence(s.request.kv(), scheduler.worstCaseTokens(s.request));
        if (s.request.keepLogits() && backend.batchInvariant()
                && (long) s.request.params().maxNewTokens() * backend.config().vocabSize() <= MAX_KEPT_LOGITS) {
            s.keptLogits = new ArrayList<>();
        }
        counters.reserve(scheduler.reserve(s.request));
        running.add(s);
    }

    private void step() {
        Scheduler.Step step = scheduler.next(running);
        if (step.isEmpty()) {
            throw new IllegalStateException("no running sequence fits an empty step of " + backend.device());
        }
        counters.prompt(step.promptTokens());
        int batch = running.size();
        KvSettings kv = running.get(0).request.kv();
        long tokens = 0;
        for (RunningSequence s : running) {
            tokens += scheduler.worstCaseTokens(s.request);
        }
        // The admissible batch of this moment, for the running sequences' mean shape.
        int admissible = scheduler.capacity(kv, (tokens + batch - 1) / batch);
        counters.kvPool(scheduler.poolBytes(kv));
        long t0 = counters.now();
        List<SampledToken> picked = backend.forwardAndSample(step.inputs(), step.samples());
        counters.step(batch, admissible, counters.now() - t0);
        fidelity.stepped();
        if (step.decodeRows() > 0) {
            counters.decodeStep(step.decodeRows());
        }
        long now = System.nanoTime();
        for (int i = 0; i < step.fed().size(); i++) {
            RunningSequence s = step.fed().get(i);
            SampledToken t = picked.get(i);
            if (t == null) {
                continue; // more prompt chunks to come
            }
            if (s.generatedCount == 0) {
                s.prefillDoneNanos = now;
            }
            s.addToken(t.token(), t.logprob(), t.logits());
            counters.generated(1);
            checkFinish(s);
        }
        for (Iterator<RunningSequence> it = running.iterator(); it.hasNext(); ) {
            RunningSequence s = it.next();
            if (s.finish != null) {
                it.remove();
                counters.release(scheduler.reserve(s.request));
                complete(s);
            }
        }
        counters.kvInUse(running.stream().mapToLong(s -> s.state.kvBytes()).sum());
        counters.active(running.size());
    }

    private void checkFinish(RunningSequence s) {
        SamplingParams p = s.request.params();
        if (rules.isEos(s.lastToken())) {
            s.finish = FinishReason.EOS;
            return;
        }
        if (!p.stop().isEmpty()) {
            String text = tokenizer.decode(s.tokens());
            int cut = StopRules.firstStop(text, p.stop());
            if (cut >= 0) {
                s.stopCut = text.substring(0, cut);
                s.finish = FinishReason.STOP;
                return;
            }
        }
        if (rules.atLimit(s.request.prompt().length, s.generatedCount, p.maxNewTokens())) {
            s.finish = FinishReason.LENGTH;
        }
    }

    private void complete(RunningSequence s) {
        if (s.state != null) {
            s.state.release();
        }
        int[] tokens = s.tokens();
        String text;
        if (s.stopCut != null) {
            text = s.stopCut;
        } else if (s.finish == FinishReason.EOS) {
            text = tokenizer.decode(tokens, 0, tokens.length - 1);
        } else {
            text = tokenizer.decode(tokens);
        }
        long end = System.nanoTime();
        double meanLp = s.generatedCount == 0 ? Double.NaN : s.logprobSum / s.generatedCount;
        counters.requestDone();
        s.future.complete(new GenerationResult(s.request.id(), text, tokens, s.request.prompt().length, s.finish, meanLp,
                s.admittedNanos - s.submittedNanos, s.prefillDoneNanos - s.admittedNanos, end - s.prefillDoneNanos, null,
                s.logits(backend.config().vocabSize())));
    }

    private void finishWithError(RunningSequence s, String error) {
        if (s.state != null) {
            s.state.release();
        }
        counters.requestDone();
        s.future.complete(GenerationResult.failed(s.request.id(), s.request.prompt().length, error));
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(loop);
        try {
            loop.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        backend.close();
    }
}
