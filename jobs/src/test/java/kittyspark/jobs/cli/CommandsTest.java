package kittyspark.jobs.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.backend.cuda.driver.CudaUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands other than generate, as a user runs them. */
class CommandsTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    record Ran(int rc, String out, String err) {
    }

    private static Ran run(String... args) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream errStream = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(errStream, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = KittyCli.commandLine();
            cli.setErr(new PrintWriter(err, true));
            int rc = cli.execute(args);
            return new Ran(rc, out.toString(StandardCharsets.UTF_8), err + errStream.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void completePrintsTheCompletionAndEchoAddsThePromptBeforeIt() {
        String prompt = "def add(a, b):\n    return";
        Ran plain = run("complete", "--prompt", prompt, "--max-new-tokens", "8");
        Ran echoed = run("complete", "--prompt", prompt, "--max-new-tokens", "8", "--echo");
        assertEquals(0, plain.rc(), plain.err());
        assertFalse(plain.out().startsWith(prompt), plain.out());
        assertEquals(prompt + plain.out(), echoed.out(), "greedy: the same completion, after the prompt");
    }

    static boolean noNvidiaDriver() {
        return !Files.exists(Path.of("/dev/nvidiactl"));
    }

    @Test
    @EnabledIf("noNvidiaDriver")
    void aCudaDeviceWithoutAGpuFailsWithOneSentence() {
        Ran r = run("complete", "--prompt", "x", "--device", "cuda:0");
        assertEquals(1, r.rc());
        List<String> lines = r.err().lines().filter(l -> l.startsWith("error:") || l.contains("\tat ")).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).contains("CUDA is not available") && lines.get(0).endsWith("use --device cpu"), lines.get(0));
    }

    @Test
    void aLongNestedCauseBecomesItsFirstLine() {
        var e = new CudaUnavailableException("CUDA is not available (java.lang.UnsatisfiedLinkError: x\n  at a\n  at b)",
                new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver\"\nOperating system: Linux\n\tat c"));
        String m = UserMessage.of(e);
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains("UnsatisfiedLinkError: Error while loading native library \"JCudaDriver\""), m);
        assertEquals("bad value", UserMessage.of(new IllegalArgumentException("bad value\nmore detail")));
    }

    @Test
    void noHelpTextNamesAnIssueOrAFolderOutsideTheProject() {
        Pattern issue = Pattern.compile("(?i)issue\\s*#?\\d");
        for (Map.Entry<String, CommandLine> c : KittyCli.commandLine().getSubcommands().entrySet()) {
            String help = c.getValue().getUsageMessage(CommandLine.Help.Ansi.OFF);
            assertFalse(issue.matcher(help).find(), c.getKey() + ":\n" + help);
            assertFalse(help.contains("../shared"), c.getKey() + ":\n" + help);
        }
    }

    @Test
    void aReferenceScoredOverFewerTokensThanItHoldsIsComparedOverThoseTokens() throws Exception {
        // A reference over 48 tokens, made from our own scores (so it agrees), then checked with --max-tokens 24.
        Path docs = tmp.resolve("docs.jsonl");
        Files.writeString(docs, "{\"id\": \"d1\", \"text\": \"" + "def f(x):\\n    return x * 2\\n\\n".repeat(8) + "\"}\n");
        Path full = tmp.resolve("full.jsonl");
        assertEquals(0, run("score", "--input", docs.toString(), "--output", full.toString(), "--max-tokens", "48").rc());
        ObjectNode scored = (ObjectNode) JSON.readTree(Files.readString(full));
        assertEquals(48, scored.get("n_tokens").asInt());
        ObjectNode ref = JSON.createObjectNode();
        ArrayNode list = ref.putArray("docs");
        list.add(scored.put("greedy_prompt_len", 0));
        Path refFile = tmp.resolve("ref.json");
        JSON.writeValue(refFile.toFile(), ref);

        Ran same = run("score", "--input", docs.toString(), "--output", tmp.resolve("a.jsonl").toString(),
                "--max-tokens", "48", "--reference", refFile.toString());
        Ran fewer = run("score", "--input", docs.toString(), "--output", tmp.resolve("b.jsonl").toString(),
                "--max-tokens", "24", "--reference", refFile.toString());

        assertEquals(0, same.rc(), same.out());
        assertEquals(0, fewer.rc(), "the first 24 tokens agree with the reference's first 24: " + fewer.out());
        assertTrue(fewer.out().contains("PASS"), fewer.out());
    }

    @Test
    void theKittyHomeIsFoundFromTheCodeWhateverTheWorkingDirectory() {
        assertEquals(REPO, KittyHome.dir());
        assertTrue(KittyHome.demoModel().isAbsolute());
        assertTrue(Files.isDirectory(KittyHome.demoModel()));
    }
}
