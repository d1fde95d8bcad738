package kittyspark.runtime.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.function.Consumer;

import kittyspark.runtime.backend.Backend;
import kittyspark.runtime.backend.ForwardInput;
import kittyspark.runtime.backend.SampleSpec;
import kittyspark.runtime.backend.StepCapacity;
import kittyspark.runtime.kv.KvFootprint;
import kittyspark.runtime.kv.KvSettings;

/**
 * Who runs next and what goes into a step. Admission: requests enter in arrival order while the
 * batch has room, the KV byte budget holds their worst case and the backend's pools admit them.
 * A step: every running sequence's decode row plus prompt chunks up to the prefill chunk, all
 * within the backend's {@link StepCapacity}, so that the backend runs the step as built (a
 * sequence that does not fit waits for the next step, it is never sampled another way).
 */
final class Scheduler {
    /** One planned step: the sequences fed, their inputs and, where a token is due, what to sample. */
    record Step(List<RunningSequence> fed, List<ForwardInput> inputs, List<SampleSpec> samples, int decodeRows,
                int promptTokens) {
        boolean isEmpty() {
            return fed.isEmpty();
        }
    }

    /** Fails a request that can never run, with the reason. */
    interface Refusal {
        void refuse(RunningSequence s, String why);
    }

    private final Backend backend;
    private final EngineOptions options;
    private final EngineCounters counters;
    /** The KV byte budget admission keeps to (0: none; the backend's pools alone limit). */
    private final long budget;

    Scheduler(Backend backend, EngineOptions options, EngineCounters counters) {
        this.backend = backend;
        this.options = options;
        this.counters = counters;
        this.budget = options.kvBudgetBytes() > 0 ? options.kvBudgetBytes() : backend.defaultKvBudgetBytes();
    }

    /** KV bytes admission may fill for mode {@code kv}: the byte budget, or the backend's pool where that is smaller. */
    long poolBytes(KvSettings kv) {
        long pool = backend.kvPoolBytes(kv);
        if (budget <= 0) {
            return pool;
        }
        return pool > 0 ? Math.min(pool, budget) : budget;
    }

    /**
     * Starts waiting requests, in arrival order, while they fit: {@code start} claims each one's
     * pool room before the next is considered. With nothing running, a first request that even
     * an empty pool cannot hold is refused: that fails the request, not the engine.
     */
    void admit(Queue<RunningSequence> pending, List<RunningSequence> running, Consumer<RunningSequence> start,
               Refusal refusal) {
        while (running.size() < options.maxBatch()) {
            RunningSequence next = pending.peek();
            if (next == null) {
                break;
            }
            boolean idle = running.isEmpty();
            if (!backend.admits(next.request.kv(), worstCaseTokens(next.request))) {
                if (idle) {
                    pending.poll();
                    refusal.refuse(next, "prompt + max_new_tokens = " + worstCaseTokens(next.request)
                            + " tokens do not fit the KV page pool of " + backend.device());
                    continue;
                }
                break; // the backend's page pool is full until a running sequence finishes
            }
            if (!idle && !withinBudget(counters.kvReserved(), reserve(next.request))) {
                break; // wait for a running sequence to free its pages
            }
            start.accept(pending.poll());
        }
    }

    /**
     * How many sequences of mode {@code kv}, each growing to {@code worstCaseTokens}, admission
     * lets run at once: the same three limits {@link #admit} applies (the batch size, the byte
     * budget, the backend's pools), for an engine that runs only such sequences. Admission always
     * lets one sequence in when nothing runs, so the budget never limits below one; a request the
     * empty pools cannot hold gives 0 (it would be refused).
     */
    int capacity(KvSettings kv, long worstCaseTokens) {
        long n = options.maxBatch();
        long bytes = KvFootprint.bytesFor(kv, backend.config().kvGeometry(), worstCaseTokens);
        if (budget > 0 && bytes > 0) {
            // withinBudget passes k sequences of these bytes while k * bytes <= budget.
            n = Math.min(n, Math.max(1, budget / bytes));
        }
        return (int) Math.max(0, Math.min(n, backend.maxSequences(kv, worstCaseTokens)));
    }

    /** Admission's byte test: another sequence of {@code bytes} fits next to {@code reserved}. */
    private boolean withinBudget(long reserved, long bytes) {
        return budget <= 0 || reserved + bytes <= budget;
    }

    /** The next step over the running sequences (in admission order), within the backend's step capacity. */
    Step next(List<RunningSequence> running) {
        StepCapacity room = backend.newStep();
        List<RunningSequence> fed = new ArrayList<>(running.size());
        List<ForwardInput> inputs = new ArrayList<>(running.size());
        List<SampleSpec> samples = new ArrayList<>(running.size());
        int prefillBudget = options.prefillChunk();
        int decodeRows = 0;
        int promptTokens = 0;
        // Decode rows first: a running sequence's next token never waits behind a new prompt.
        for (RunningSequence s : running) {
            if (!s.prefilling() && room.take(s.state, 1, true) == 1) {
                fed.add(s);
                inputs.add(new ForwardInput(s.state, new int[] {s.lastToken()}, false));
                samples.add(new SampleSpec(s.request.params(), s.generatedCount, s.sampler, s.keepsLogits()));
                decodeRows++;
            }
        }
        for (RunningSequence s : running) {
            if (!s.prefilling() || prefillBudget <= 0) {
                continue;
            }
            int[] prompt = s.request.prompt();
            int rest = prompt.length - s.promptFed;
            int want = Math.min(prefillBudget, rest);
            int n = room.take(s.state, want, want == rest);
            if (n == 0) {
                continue;
            }
            fed.add(s);
            inputs.add(new ForwardInput(s.state, Arrays.copyOfRange(prompt, s.promptFed, s.promptFed + n), false));
            s.promptFed += n;
            s.prefillSteps++;
            prefillBudget -= n;
            promptTokens += n;
            // A prompt whose last chunk this is gets its first token; a chunk with more to come needs no logits.
            samples.add(s.prefilling() ? null : new SampleSpec(s.request.params(), s.generatedCount, s.sampler, s.keepsLogits()));
        }
        return new Step(fed, inputs, samples, decodeRows, promptTokens);
    }

    /** Worst-case KV bytes of a request: prompt plus every new token, at the mode's footprint. */
    long reserve(GenerationRequest r) {
        return KvFootprint.bytesFor(r.kv(), backend.config().kvGeometry(), worstCaseTokens(r));
    }

    long worstCaseTokens(GenerationRequest r) {
        return worstCaseTokens(r.prompt().length, r.params().maxNewTokens());
    }

    /** Tokens a sequence may grow to: prompt plus every new token, within the model's context. */
    long worstCaseTokens(int promptTokens, int maxNewTokens) {
        return Math.min((long) promptTokens + maxNewTokens, backend.config().maxPositionEmbeddings());
    }
}
