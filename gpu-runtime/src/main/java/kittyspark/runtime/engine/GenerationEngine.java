package kittyspark.runtime.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.SampledToken;
import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.ModelConfig;
import kittyspark.runtime.kv.KvFootprint;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.tokenizer.Tokenizer;
import kittyspark.runtime.tokenizer.TokenizerFiles;
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

    private final Backend backend;
    private final Tokenizer tokenizer;
    private final EngineOptions options;
    private final String modelName;
    private final StopRules rules;
    private final LinkedBlockingQueue<RunningSequence> pending = new LinkedBlockingQueue<>();
    private final List<RunningSequence> running = new ArrayList<>();
    private final Thread scheduler;
    private final EngineCounters counters = new EngineCounters();
    private volatile boolean closed;

    public GenerationEngine(Backend backend, Tokenizer tokenizer, EngineOptions options, String modelName, Set<Integer> eosIds) {
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.options = options;
        this.modelName = modelName;
        this.rules = new StopRules(eosIds, backend.config().maxPositionEmbeddings());
        this.scheduler = new Thread(this::loop, "kitty-scheduler-" + backend.device());
        this.scheduler.setDaemon(true);
        this.scheduler.start();
    }

    /** Loads the checkpoint and tokenizer of {@code options.modelDir()} and starts the engine. */
    public static GenerationEngine open(EngineOptions options) {
        Path dir = options.modelDir();
        Checkpoint ckpt = Checkpoint.open(dir);
        Tokenizer tok = Tokenizer.load(TokenizerFiles.tokenizerJson(dir));
        Backend backend = Backends.open(ckpt, options);
        LOG.info("engine: model {} ({}, {} layers, hidden {}) on {}, max batch {}", dir.getFileName(),
                ckpt.config().architecture().hfName(), ckpt.config().numLayers(), ckpt.config().hiddenSize(),
                backend.device(), options.maxBatch());
        return new GenerationEngine(backend, tok, options, dir.getFileName().toString(), eosIds(dir, ckpt.config()));
    }

    /** EOS ids from config.json and, where present, generation_config.json (chat models list several). */
    static Set<Integer> eosIds(Path dir, ModelConfig config) {
        Set<Integer> ids = new HashSet<>(config.eosTokenIds());
        Path gen = dir.resolve("generation_config.json");
        if (Files.isRegularFile(gen)) {
            try {
                JsonNode eos = JSON.readTree(gen.toFile()).path("eos_token_id");
                if (eos.isArray()) {
                    eos.forEach(n -> ids.add(n.asInt()));
                } else if (eos.isInt()) {
                    ids.add(eos.asInt());
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(gen + ": not valid JSON: " + e.getMessage(), e);
            }
        }
        return ids;
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
        pending.add(new RunningSequence(request, f, System.nanoTime()));
        return f;
    }

    /** Teacher-forced fidelity of a completion under {@code kv} against the full-precision cache. Thread-safe. */
    public KvFidelity.Result fidelity(int[] prompt, int[] completion, KvSettings kv) {
        return KvFidelity.measure(backend, prompt, completion, kv);
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
    }

    private void admit() throws InterruptedException {
        if (running.isEmpty()) {
            RunningSequence first = pending.poll(200, TimeUnit.MILLISECONDS);
            if (first == null) {
                return;
            }
            if (!backend.admits(first.request.kv(), worstCaseTokens(first.request))) {
                // Even an empty device pool cannot hold it: fail this request, not the engine.
                finishWithError(first, "prompt + max_new_tokens = " + worstCaseTokens(first.request)
                        + " tokens do not fit the KV page pool of " + backend.device());
                return;
            }
            start(first);
        }
        long budget = options.kvBudgetBytes();
        while (running.size() < options.maxBatch()) {
            RunningSequence next = pending.peek();
            if (next == null) {
                break;
            }
            if (budget > 0 && counters.kvReserved() + reserve(next.request) > budget && !running.isEmpty()) {
                break; // wait for a running sequence to free its pages
            }
            if (!backend.admits(next.request.kv(), worstCaseTokens(next.request))) {
                break; // the backend's page pool is full until a running sequence finishes
            }
            start(pending.poll());
        }
        counters.active(running.size());
    }

    /** Worst-case KV bytes of a request: prompt plus every new token, at the mode's footprint. */
    private long reserve(GenerationRequest r) {
        return KvFootprint.bytesFor(r.kv(), backend.config().kvGeometry(), worstCaseTokens(r));
    }

    private long worstCaseTokens(GenerationRequest r) {
        return Math.min((long) r.prompt().length + r.params().maxNewTokens(), backend.config().maxPositionEmbeddings());
    }

    private void start(RunningSequence s) {
        s.admittedNanos = System.nanoTime();
        if (s.request.params().maxNewTokens() == 0) {
            s.finish = FinishReason.LENGTH;
            s.prefillDoneNanos = s.admittedNanos;
            complete(s);
            return;
        }
        s.state = backend.newSequence(s.request.kv(), worstCaseTokens(s.request));
        counters.reserve(reserve(s.request));
        running.add(s);
    }

    private void step() {
        List<ForwardInput> batch = new ArrayList<>(running.size());
        int prefillBudget = options.prefillChunk();
        int decodeRows = 0;
        List<RunningSequence> fed = new ArrayList<>(running.size());
        for (RunningSequence s : running) {
            if (s.prefilling()) {
                if (prefillBudget <= 0) {
                    continue;
                }
                int[] prompt = s.request.prompt();
                int n = Math.min(prefillBudget, prompt.length - s.promptFed);
                batch.add(new ForwardInput(s.state, java.util.Arrays.copyOfRange(prompt, s.promptFed, s.promptFed + n), false));
                s.promptFed += n;
                prefillBudget -= n;
                counters.prompt(n);
            } else {
                batch.add(new ForwardInput(s.state, new int[] {s.lastToken()}, false));
                decodeRows++;
            }
            fed.add(s);
        }
        // Sequences whose prompt is done after this step get their next token; prompt chunks with
        // more to come need no logits at all.
        List<SampleSpec> specs = new ArrayList<>(fed.size());
        for (RunningSequence s : fed) {
            specs.add(s.prefilling() ? null : new SampleSpec(s.request.params(), s.generatedCount, s.sampler));
        }
        List<SampledToken> picked = backend.forwardAndSample(batch, specs);
        if (decodeRows > 0) {
            counters.decodeStep(decodeRows);
        }
        long now = System.nanoTime();
        for (int i = 0; i < fed.size(); i++) {
            RunningSequence s = fed.get(i);
            if (s.prefilling()) {
                continue; // more prompt chunks to come
            }
            if (s.generatedCount == 0) {
                s.prefillDoneNanos = now;
            }
            SampledToken t = picked.get(i);
            int token = t.token();
            s.addToken(token, t.logprob());
            counters.generated(1);
            checkFinish(s);
        }
        for (Iterator<RunningSequence> it = running.iterator(); it.hasNext(); ) {
            RunningSequence s = it.next();
            if (s.finish != null) {
                it.remove();
                counters.release(reserve(s.request));
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
                s.admittedNanos - s.submittedNanos, s.prefillDoneNanos - s.admittedNanos, end - s.prefillDoneNanos, null));
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
        try {
            scheduler.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        backend.close();
    }
}
