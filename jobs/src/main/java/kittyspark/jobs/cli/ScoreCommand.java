package kittyspark.jobs.cli;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.engine.GenerationEngine;
import kittyspark.runtime.engine.GenerationRequest;
import kittyspark.runtime.engine.GenerationResult;
import kittyspark.runtime.eval.Conformance;
import kittyspark.runtime.eval.DocumentScore;
import kittyspark.runtime.eval.HfReference;
import kittyspark.runtime.eval.Scorer;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;
import kittyspark.runtime.tokenizer.TokenizerFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Teacher-forced scoring of documents, optionally checked against a Hugging Face reference. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Score documents teacher-forced: one JSON line {id, n_tokens, token_ids, nll_mean, next_logprob, argmax} per input line {id, text}.")
public final class ScoreCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    ModelOptions model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON lines with id and text (.xz-compressed files are read as they are).")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "JSON lines of scores.")
    Path output;

    @Option(names = "--max-tokens", defaultValue = "2048", description = "Keep the first N tokens (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--prefill", description = "With a quantized --kv: tokens prefilled before decoding the rest (default: half).")
    Integer prefill;

    @Option(names = "--reference", paramLabel = "FILE",
            description = "Hugging Face reference JSON ({docs: [{id, token_ids, nll_mean, next_logprob, argmax, greedy_prompt_len, greedy48}]}):"
                    + " check token ids, argmax, nll and greedy continuations against it, over the tokens scored (--max-tokens);"
                    + " exit 3 when a threshold is missed.")
    Path reference;

    @Option(names = "--limit", description = "Score only the first N documents.")
    Integer limit;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(input)) {
            throw new IllegalArgumentException(input + ": input file not found");
        }
        if (maxTokens < 2) {
            throw new IllegalArgumentException("--max-tokens must be at least 2");
        }
        Map<String, HfReference.Doc> refs = new HashMap<>();
        if (reference != null) {
            HfReference.load(reference).forEach(d -> refs.put(d.id(), d));
        }
        KvSettings kv = model.kvSettings();
        Conformance conformance = new Conformance();
        long t0 = System.nanoTime();
        long tokens = 0;
        int done = 0;
        try (GenerationEngine engine = GenerationEngine.open(model.engineOptions(1));
             BufferedReader in = new BufferedReader(new InputStreamReader(TokenizerFiles.open(input), StandardCharsets.UTF_8));
             BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
            Scorer scorer = new Scorer(engine.backend());
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null && (limit == null || done < limit)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                ObjectNode row = JSON.createObjectNode();
                JsonNode doc;
                try {
                    doc = JSON.readTree(line);
                } catch (Exception e) {
                    row.put("id", (String) null).put("line", lineNo).put("error", "not valid JSON: " + e.getMessage());
                    writeLine(out, row);
                    continue;
                }
                String id = doc.path("id").asText(null);
                String text = doc.path("text").isTextual() ? doc.get("text").asText() : null;
                row.put("id", id);
                int[] ids = text == null ? new int[0] : engine.tokenizer().encode(text);
                if (ids.length < 2) {
                    row.put("error", text == null ? "no 'text' string" : "text has fewer than 2 tokens");
                    writeLine(out, row);
                    continue;
                }
                ids = Arrays.copyOf(ids, Math.min(ids.length, maxTokens));
                int m = prefill != null ? prefill : ids.length / 2;
                DocumentScore s = scorer.score(id, ids, kv, Math.max(1, Math.min(m, ids.length)));
                write(out, row, s);
                tokens += ids.length;
                done++;
                HfReference.Doc ref = refs.containsKey(id) ? prefix(refs.get(id), ids.length) : null;
                if (ref != null) {
                    conformance.add(ref, s);
                    if (ref.greedy().length > 0 && ref.greedyPromptLen() < ids.length) {
                        conformance.addGreedy(ref, greedy(engine, ids, ref.greedyPromptLen(), ref.greedy().length, kv));
                    }
                }
                System.err.printf("scored %s: %d tokens, nll %.5f%s%n", id, ids.length, s.nllMean(),
                        ref == null ? "" : String.format(" (reference %.5f)", ref.nllMean()));
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.err.printf("scored %d documents, %d tokens in %.1f s (%.0f tokens/s) -> %s%n", done, tokens, secs, tokens / secs, output);
        if (reference != null) {
            System.out.println(conformance.summary());
            return conformance.passes() ? 0 : 3;
        }
        return 0;
    }

    /**
     * The reference over the first {@code n} tokens, as we scored them: a reference made over
     * more tokens (Hugging Face's 2048) must not fail a run with a smaller --max-tokens.
     */
    static HfReference.Doc prefix(HfReference.Doc ref, int n) {
        if (ref.tokenIds().length <= n) {
            return ref;
        }
        double[] next = Arrays.copyOf(ref.nextLogprob(), Math.min(ref.nextLogprob().length, n - 1));
        double nll = 0;
        for (double lp : next) {
            nll -= lp;
        }
        return new HfReference.Doc(ref.id(), Arrays.copyOf(ref.tokenIds(), n), next.length == 0 ? Double.NaN : nll / next.length,
                next, Arrays.copyOf(ref.argmax(), Math.min(ref.argmax().length, n)), ref.greedyPromptLen(), ref.greedy());
    }

    private static int[] greedy(GenerationEngine engine, int[] ids, int promptLen, int n, KvSettings kv) throws Exception {
        GenerationResult r = engine.submit(new GenerationRequest("greedy", Arrays.copyOf(ids, promptLen),
                SamplingParams.greedy(n), kv)).get();
        return r.tokens();
    }

    private static void write(BufferedWriter out, ObjectNode row, DocumentScore s) throws Exception {
        row.put("n_tokens", s.nTokens());
        row.set("token_ids", JSON.valueToTree(s.tokenIds()));
        row.put("nll_mean", s.nllMean());
        var lp = row.putArray("next_logprob");
        for (double v : s.nextLogprob()) {
            lp.add(Math.round(v * 1e5) / 1e5);
        }
        row.set("argmax", JSON.valueToTree(s.argmax()));
        writeLine(out, row);
    }

    private static void writeLine(BufferedWriter out, ObjectNode row) throws Exception {
        out.write(JSON.writeValueAsString(row));
        out.newLine();
    }
}
