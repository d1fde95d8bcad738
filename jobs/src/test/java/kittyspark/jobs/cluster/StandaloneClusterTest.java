package kittyspark.jobs.cluster;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import kittyspark.jobs.generate.JobConfig;
import kittyspark.pipeline.GenerationPipeline;
import kittyspark.pipeline.JobSummary;
import kittyspark.pipeline.PipelineConfig;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real standalone cluster on loopback: a Master and two Workers as child JVMs, each worker
 * advertising one fake GPU through its own discovery script. It runs the README's cluster
 * recipe through spark-submit's own main class, shows that a job asking for more than any
 * worker has says so, and checks that each executor builds one engine its tasks share. There
 * is no CUDA here, so with device = auto an engine falls back to the CPU backend (logged).
 */
class StandaloneClusterTest {
    static final Path REPO = Path.of(System.getProperty("kitty.repo.root", "..")).toAbsolutePath().normalize();
    @TempDir
    static Path dir;
    static final List<Process> children = new ArrayList<>();
    static String masterUrl;
    static String classpath;
    static Path sparkHome;

    @BeforeAll
    static void startCluster() throws Exception {
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        sparkHome = sparkHome(classpath);
        int port = freePort();
        int webui = freePort();
        masterUrl = "spark://127.0.0.1:" + port;
        children.add(launch(jarsOnly(classpath), List.of(), "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(webui)));
        for (String gpu : List.of("0", "1")) {
            Path script = dir.resolve("gpu-" + gpu + ".sh");
            Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\":\"gpu\",\"addresses\":[\"" + gpu + "\"]}'\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            children.add(launch(jarsOnly(classpath),
                    List.of("-Dspark.worker.resource.gpu.amount=1", "-Dspark.worker.resource.gpu.discoveryScript=" + script),
                    "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory", "1536m",
                    "--webui-port", String.valueOf(freePort()), "--work-dir", dir.resolve("work-" + gpu).toString(), masterUrl));
        }
        waitForWorkers(webui, 2);
    }

    /** Until the master's status page lists {@code n} live workers (JVMs start slowly on a busy machine). */
    private static void waitForWorkers(int webui, int n) throws Exception {
        java.net.URI status = java.net.URI.create("http://127.0.0.1:" + webui + "/json/");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            try (var in = status.toURL().openStream()) {
                var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
                if (json.path("aliveworkers").asInt() >= n) {
                    return;
                }
            } catch (IOException notYet) {
                // the master is still starting
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the standalone master has not " + n + " live workers; see the logs under " + dir);
    }

    /** A SPARK_HOME whose jars/ holds links to every jar of this test's classpath: what a Worker launches executors with. */
    private static Path sparkHome(String classpath) throws IOException {
        Path home = Files.createDirectories(dir.resolve("spark-home"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String e : classpath.split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        return home;
    }

    /** The classpath without the modules' class folders: a cluster gets our code from the job jar only. */
    private static String jarsOnly(String classpath) {
        List<String> jars = new ArrayList<>();
        for (String e : classpath.split(File.pathSeparator)) {
            if (e.endsWith(".jar")) {
                jars.add(e);
            }
        }
        return String.join(File.pathSeparator, jars);
    }

    /** The modules' class folders (kvquant, gpu-runtime, pipeline, jobs main classes). */
    private static List<Path> moduleClasses() {
        List<Path> dirs = new ArrayList<>();
        for (String e : classpath.split(File.pathSeparator)) {
            if (e.endsWith("target" + File.separator + "classes") && new File(e).isDirectory()) {
                dirs.add(Path.of(e));
            }
        }
        return dirs;
    }

    /**
     * The job jar with our classes only: what {@code mvn package} shades minus the third-party
     * libraries, which this cluster's SPARK_HOME/jars already holds. Written where the real jar
     * goes, so the job finds the bundled model next to it as it would.
     */
    private static Path jobJar() throws IOException {
        Path jar = REPO.resolve("jobs/target/kitty-spark-jobs-cluster-test.jar");
        try (OutputStream f = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(f)) {
            Set<String> seen = new HashSet<>();
            for (Path root : moduleClasses()) {
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                        String name = root.relativize(p).toString().replace(File.separatorChar, '/');
                        if (seen.add(name)) {
                            out.putNextEntry(new JarEntry(name));
                            Files.copy(p, out);
                            out.closeEntry();
                        }
                    }
                }
            }
        }
        return jar;
    }

    private static Process launch(String cp, List<String> props, String main, String... args) throws IOException {
        return launch(cp, props, main, dir.resolve(main.substring(main.lastIndexOf('.') + 1) + "-" + children.size() + ".log"),
                REPO, List.of(args));
    }

    private static Process launch(String cp, List<String> props, String main, Path log, Path cwd, List<String> args)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", cp));
        // What spark-submit's launcher adds on Java 17 (this test JVM has the same).
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) {
                cmd.add(a);
            }
        }
        cmd.addAll(props);
        cmd.add(main);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).directory(cwd.toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        for (Process p : children) {
            p.destroy();
        }
        for (Process p : children) {
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    /** The README's cluster recipe: the spark-submit command between its cluster-recipe markers, as words. */
    static List<String> readmeRecipe() throws IOException {
        String readme = Files.readString(REPO.resolve("README.md"));
        int from = readme.indexOf("<!-- cluster-recipe -->");
        int to = readme.indexOf("<!-- /cluster-recipe -->");
        assertTrue(from >= 0 && to > from, "README.md has the cluster-recipe markers");
        String block = readme.substring(from, to).replace("\\\n", " ");
        for (String line : block.split("\n")) {
            if (line.startsWith("spark-submit ")) {
                return List.of(line.trim().split("\\s+"));
            }
        }
        throw new AssertionError("no spark-submit line in the README's cluster recipe");
    }

    /**
     * Runs the recipe through spark-submit's main class with the cluster's address, an output
     * folder and this test's job jar in place of the placeholders, plus {@code extra} options
     * for spark-submit (before the jar) and for the job (after it).
     */
    private static Process submit(Path out, List<String> sparkOptions, List<String> jobOptions, Path log) throws IOException {
        List<String> words = readmeRecipe();
        String jar = jobJar().toString();
        List<String> args = new ArrayList<>();
        for (String w : words.subList(1, words.size())) {
            String v = w.replace("spark://HOST:7077", masterUrl).replace("/shared/kitty-out", out.toString())
                    .replace("jobs/target/kitty-spark-jobs.jar", jar);
            if (v.equals(jar)) {
                args.addAll(sparkOptions);
            }
            args.add(v);
        }
        args.addAll(jobOptions);
        return launch(jarsOnly(classpath), List.of(), "org.apache.spark.deploy.SparkSubmit", log, REPO, args);
    }

    @Test
    void theReadmesClusterRecipeRunsAsWrittenAndSparkSubmitsSettingsWin() throws Exception {
        Path out = dir.resolve("recipe-out");
        Path log = dir.resolve("recipe.log");
        // The workers have 1.5 GB; conf/cluster-cpu.conf asks 2g per executor unless spark-submit says otherwise.
        Process p = submit(out, List.of("--executor-memory", "1g"),
                List.of("--set", "sampling.max-new-tokens=4", "--set", "fidelity.fraction=0"), log);
        boolean finished = p.waitFor(600, TimeUnit.SECONDS); // generous: a busy shared machine is slow
        if (!finished) {
            p.destroyForcibly();
        }
        String printed = Files.readString(log);
        assertTrue(finished, "the recipe finished in time:\n" + tail(printed));
        assertEquals(0, p.exitValue(), tail(printed));
        assertTrue(printed.contains("kitty progress: 34/34 rows (100.0%)"), "the driver prints progress:\n" + tail(printed));
        SparkSession reader = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            List<Row> rows = reader.read().parquet(out.toString()).select("engine.executor_id", "error").collectAsList();
            assertEquals(34, rows.size(), "every row of data/demo-prompts.parquet");
            assertTrue(rows.stream().noneMatch(r -> "driver".equals(r.getString(0))), "executors generated the rows");
        } finally {
            reader.stop();
        }
    }

    @Test
    void aJobAskingForMoreThanAnyWorkerHasSaysWhatItAskedForAndWhere() throws Exception {
        Path log = dir.resolve("too-big.log");
        Process p = submit(dir.resolve("too-big-out"), List.of("--executor-memory", "64g"),
                List.of("--set", "spark.executor-wait=3s"), log);
        String printed = "";
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && !printed.contains("no executor has been granted")) {
                Thread.sleep(500);
                printed = Files.exists(log) ? Files.readString(log) : "";
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(20, TimeUnit.SECONDS);
        }
        assertTrue(printed.contains("no executor has been granted"), tail(printed));
        assertTrue(printed.contains("spark.executor.memory=64g (from spark-submit"), tail(printed));
        assertTrue(printed.contains("spark.executor.cores=2 (from kitty.spark.conf in "), tail(printed));
    }

    private static String tail(String s) {
        return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
    }

    @Test
    void eachExecutorGetsItsOwnGpuAndBuildsOneEngineThatItsTasksShare() throws Exception {
        StringBuilder dirs = new StringBuilder();
        for (Path d : moduleClasses()) {
            dirs.append(dirs.length() == 0 ? "" : File.pathSeparator).append(d);
        }
        SparkSession spark = SparkSession.builder().master(masterUrl).appName("kitty-standalone-test")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.executor.memory", "1g")
                .config("spark.executor.cores", "2")
                .config("spark.cores.max", "4")
                .config("spark.executor.resource.gpu.amount", "1")
                .config("spark.task.resource.gpu.amount", "0.5")
                .config("spark.executor.extraClassPath", dirs.toString()) // module classes; jars come from SPARK_HOME/jars
                // As documented for clusters: executors run the CPU backend's SIMD kernels.
                .config("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
        try {
            waitForExecutors(spark, 2);
            Map<Integer, String> stageNames = new ConcurrentHashMap<>();
            Map<Integer, List<String>> stageExecutors = new ConcurrentHashMap<>();
            spark.sparkContext().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd e) {
                    stageExecutors.computeIfAbsent(e.stageId(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                            .add(e.taskInfo().executorId());
                }

                @Override
                public void onStageCompleted(SparkListenerStageCompleted e) {
                    stageNames.put(e.stageInfo().stageId(), e.stageInfo().name());
                }
            });
            String input = dir.resolve("in").toString();
            StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType);
            List<Row> prompts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                prompts.add(RowFactory.create("p" + i, "def f" + i + "(x):\n    return"));
            }
            spark.createDataFrame(prompts, schema).coalesce(1).write().parquet(input);
            PipelineConfig cfg = JobConfig.load(null, List.of("engine.device=auto", "engine.threads=1", "engine.max-batch=16",
                            "run.partitions=4", "run.max-in-flight-per-task=4", "sampling.max-new-tokens=4", "kv.mode=fp16"))
                    .pipeline(REPO.resolve("models/kitty-demo-qwen3-12m"), null);

            JobSummary summary = new GenerationPipeline(spark, cfg).run(input, dir.resolve("out").toString());

            List<Row> rows = spark.read().parquet(dir.resolve("out").toString()).select("engine.*").collectAsList();
            assertEquals(8, rows.size());
            Map<String, Set<String>> gpusByExecutor = new HashMap<>();
            Map<String, Set<String>> enginesByExecutor = new HashMap<>();
            for (Row r : rows) {
                gpusByExecutor.computeIfAbsent(r.getString(0), k -> new HashSet<>()).add(r.getString(1));
                enginesByExecutor.computeIfAbsent(r.getString(0), k -> new HashSet<>()).add(r.getString(3));
                assertEquals("cpu", r.getString(2), "no CUDA here: device auto falls back to the CPU backend");
            }
            assertEquals(2, gpusByExecutor.size(), "both executors generated rows");
            Set<String> gpus = new HashSet<>();
            gpusByExecutor.values().forEach(g -> {
                assertEquals(1, g.size(), "an executor uses one GPU");
                gpus.addAll(g);
            });
            assertEquals(Set.of("0", "1"), gpus, "each executor has its own GPU");
            enginesByExecutor.values().forEach(e -> assertEquals(1, e.size(), "one engine per executor"));
            assertEquals(2, summary.enginesCreated(), "exactly one engine created per executor");
            assertTrue(summary.engineLines().stream().allMatch(JobSummary.EngineLine::createdInRun), summary.toText());

            // The generate-and-write stage ran 4 tasks over 2 executors: some executor ran several
            // tasks, and they all used its one engine.
            int generateStage = stageNames.entrySet().stream().filter(e -> e.getValue().startsWith("parquet at OutputStore"))
                    .map(Map.Entry::getKey).filter(stageExecutors::containsKey)
                    .max(Comparator.comparingInt(id -> stageExecutors.get(id).size())).orElseThrow();
            List<String> taskExecutors = stageExecutors.get(generateStage);
            assertEquals(4, taskExecutors.size());
            assertTrue(taskExecutors.stream().distinct().anyMatch(x -> taskExecutors.stream().filter(x::equals).count() >= 2),
                    "an executor ran more than one generate task: " + taskExecutors);
        } finally {
            spark.stop();
        }
    }

    private static void waitForExecutors(SparkSession spark, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (spark.sparkContext().getExecutorIds().size() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + spark.sparkContext().getExecutorIds().size()
                        + " executors registered; see the worker logs under " + dir);
            }
            Thread.sleep(250);
        }
    }
}
