package kittyspark.pipeline;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real standalone cluster on loopback: a Master and two Workers as child JVMs, each worker
 * advertising one fake GPU through its own discovery script. Executors get one GPU each and
 * two tasks share it (gpu amount 0.5). There is no CUDA here, so with device = auto each
 * engine falls back to the CPU backend (logged), which is exactly the path under test.
 */
class StandaloneClusterTest {
    @TempDir
    static Path dir;
    static final List<Process> children = new ArrayList<>();
    static SparkSession spark;
    static String masterUrl;

    @BeforeAll
    static void startCluster() throws Exception {
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path sparkHome = sparkHome(classpath);
        int port = freePort();
        masterUrl = "spark://127.0.0.1:" + port;
        children.add(launch(classpath, sparkHome, List.of(), "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort())));
        for (String gpu : List.of("0", "1")) {
            Path script = dir.resolve("gpu-" + gpu + ".sh");
            Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\":\"gpu\",\"addresses\":[\"" + gpu + "\"]}'\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            children.add(launch(classpath, sparkHome,
                    List.of("-Dspark.worker.resource.gpu.amount=1", "-Dspark.worker.resource.gpu.discoveryScript=" + script),
                    "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory", "1536m",
                    "--webui-port", String.valueOf(freePort()), "--work-dir", dir.resolve("work-" + gpu).toString(), masterUrl));
        }
        StringBuilder dirs = new StringBuilder();
        for (String e : classpath.split(File.pathSeparator)) {
            if (new File(e).isDirectory()) {
                dirs.append(dirs.length() == 0 ? "" : File.pathSeparator).append(e);
            }
        }
        spark = SparkSession.builder().master(masterUrl).appName("kitty-standalone-test")
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
        waitForExecutors(2);
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

    private static Process launch(String classpath, Path sparkHome, List<String> props, String main, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", classpath));
        cmd.addAll(props);
        cmd.add(main);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(main.substring(main.lastIndexOf('.') + 1) + "-" + children.size() + ".log").toFile());
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

    private static void waitForExecutors(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (spark.sparkContext().getExecutorIds().size() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + spark.sparkContext().getExecutorIds().size()
                        + " executors registered; see the worker logs under " + dir);
            }
            Thread.sleep(250);
        }
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        if (spark != null) {
            spark.stop();
        }
        for (Process p : children) {
            p.destroy();
        }
        for (Process p : children) {
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void eachExecutorGetsItsOwnGpuAndBuildsOneEngineThatItsTasksShare() {
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
        String input = TestSpark.write(spark, TestSpark.goodRows(8), dir.resolve("in"));
        PipelineConfig cfg = TestSpark.config()
                .withEngine(new PipelineConfig.EngineSettings("auto", 1, 16, 0, 2048))
                .withRun(new PipelineConfig.RunSettings(4, 4, 1000, java.time.Duration.ofSeconds(5), false, java.time.Duration.ofMinutes(10)));

        JobSummary summary = new GenerationPipeline(spark, cfg).run(input, dir.resolve("out").toString());
        System.out.println(summary.toText());

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

        // The generate-and-write stage ran 4 tasks over 2 executors: some executor ran several
        // tasks, and they all used its one engine.
        int generateStage = stageNames.entrySet().stream().filter(e -> e.getValue().startsWith("parquet at OutputStore"))
                .map(Map.Entry::getKey).filter(stageExecutors::containsKey)
                .max(java.util.Comparator.comparingInt(id -> stageExecutors.get(id).size())).orElseThrow();
        List<String> taskExecutors = stageExecutors.get(generateStage);
        assertEquals(4, taskExecutors.size());
        assertTrue(taskExecutors.stream().distinct().anyMatch(x -> taskExecutors.stream().filter(x::equals).count() >= 2),
                "an executor ran more than one generate task: " + taskExecutors);
    }
}
