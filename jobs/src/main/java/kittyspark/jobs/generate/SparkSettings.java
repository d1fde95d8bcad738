package kittyspark.jobs.generate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.SparkConf;

/**
 * The Spark settings of a run and where each came from. What is already in the SparkConf
 * (spark-submit's options and --conf, spark-defaults.conf, -Dspark.*) wins; the job's
 * {@code kitty.spark.*} only fills keys left unset, so a user can always override the job's
 * defaults from the command line that launches it.
 */
public final class SparkSettings {
    /** Set before the job started: spark-submit options, its --conf, spark-defaults.conf or -D. */
    public static final String LAUNCHER = "spark-submit / spark-defaults";

    /** The executor resources a cluster must grant, in the order a user reads them. */
    static final List<String> RESOURCE_KEYS = List.of("spark.executor.cores", "spark.executor.memory",
            "spark.executor.resource.gpu.amount", "spark.task.resource.gpu.amount", "spark.task.cpus",
            "spark.executor.instances", "spark.cores.max");

    private final SparkConf conf;
    private final Map<String, String> sources;

    private SparkSettings(SparkConf conf, Map<String, String> sources) {
        this.conf = conf;
        this.sources = sources;
    }

    /**
     * @param launched the SparkConf as the launcher left it ({@code new SparkConf()} reads it)
     * @param job      the job's configuration
     */
    public static SparkSettings resolve(SparkConf launched, JobConfig job) {
        SparkConf conf = launched.clone();
        Map<String, String> sources = new LinkedHashMap<>();
        for (scala.Tuple2<String, String> kv : launched.getAll()) {
            sources.put(kv._1(), LAUNCHER);
        }
        if (!conf.contains("spark.master")) {
            conf.setMaster(job.sparkMaster());
            sources.put("spark.master", job.origin("kitty.spark.master"));
        }
        if (!conf.contains("spark.app.name")) {
            conf.setAppName(job.appName());
            sources.put("spark.app.name", job.origin("kitty.spark.app-name"));
        }
        for (Map.Entry<String, JobConfig.Sourced> e : job.sparkConf().entrySet()) {
            if (!conf.contains(e.getKey())) {
                conf.set(e.getKey(), e.getValue().value());
                sources.put(e.getKey(), e.getValue().origin());
            }
        }
        if (conf.get("spark.master").startsWith("local") && !conf.contains("spark.ui.showConsoleProgress")) {
            conf.set("spark.ui.showConsoleProgress", "false"); // the driver's kitty progress lines say more
        }
        return new SparkSettings(conf, sources);
    }

    public SparkConf conf() {
        return conf;
    }

    public boolean local() {
        return conf.get("spark.master", "local").startsWith("local");
    }

    /** Where a key's value came from, or null when it is not set. */
    public String source(String key) {
        return conf.contains(key) ? sources.getOrDefault(key, LAUNCHER) : null;
    }

    /** The executor resources this run asks for, each with its value and source, for messages. */
    public List<String> resourceRequest() {
        List<String> out = new ArrayList<>();
        for (String key : RESOURCE_KEYS) {
            if (conf.contains(key)) {
                out.add(key + "=" + conf.get(key) + " (from " + source(key) + ")");
            } else if (key.equals("spark.executor.cores") || key.equals("spark.executor.memory")) {
                out.add(key + "=" + (key.endsWith("memory") ? "1g" : "all of a worker's cores") + " (Spark's default)");
            }
        }
        return out;
    }
}
