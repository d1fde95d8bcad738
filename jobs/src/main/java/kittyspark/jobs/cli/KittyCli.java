package kittyspark.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/kitty-spark}: one entry point, a subcommand per job. */
@Command(name = "kitty-spark", mixinStandardHelpOptions = true, version = "kitty-spark 0.1.0",
        description = "Batch LLM generation with a 2-bit Kitty KV cache.",
        subcommands = {
            CompleteCommand.class,
            ScoreCommand.class,
            TokenizeCommand.class,
            EvalKvCommand.class,
            BenchCommand.class,
            GenerateCommand.class, DemoCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class KittyCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new KittyCli());
        // A bad file, model or value is the user's to fix: say what, without a stack trace.
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("error: " + UserMessage.of(e));
            if (Boolean.getBoolean("kitty.debug")) {
                e.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cli;
    }
}
