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

    Scheduler(Backend backend, EngineOptions options, EngineCounters counters) {
        this.backend = backend;
        this.options = options;
        this.counters = counters;
    }

    /**
     * Starts waiting requests, in arrival order, while they fit: {@code start} claims each one's
     * pool room before the next is considered. With nothing running, a first request that even
     * an empty pool cannot hold is refused: that fails the request, not the engine.
     */
    void admit(Queue<RunningSequence> pending, List<RunningSequence> running, Consumer<RunningSequence> start,
               Refusal refusal) {
        long budget = options.kvBudgetBytes();
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
            if (!idle && budget > 0 && counters.kvReserved() + reserve(next.request) > budget) {
                break; // wait for a running sequence to free its pages
            }
            start.accept(pending.poll());
        }
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
                samples.add(new SampleSpec(s.request.params(), s.generatedCount, s.sampler));
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
            prefillBudget -= n;
            promptTokens += n;
            // A prompt whose last chunk this is gets its first token; a chunk with more to come needs no logits.
            samples.add(s.prefilling() ? null : new SampleSpec(s.request.params(), s.generatedCount, s.sampler));
        }
        return new Step(fed, inputs, samples, decodeRows, promptTokens);
    }

    /** Worst-case KV bytes of a request: prompt plus every new token, at the mode's footprint. */
    long reserve(GenerationRequest r) {
        return KvFootprint.bytesFor(r.kv(), backend.config().kvGeometry(), worstCaseTokens(r));
    }

    long worstCaseTokens(GenerationRequest r) {
        return Math.min((long) r.prompt().length + r.params().maxNewTokens(), backend.config().maxPositionEmbeddings());
    }
}
