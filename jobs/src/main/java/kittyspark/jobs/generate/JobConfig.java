package kittyspark.jobs.generate;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import kittyspark.pipeline.PipelineConfig;
import kittyspark.runtime.backend.cuda.CudaOptions;
import kittyspark.runtime.backend.cuda.kitty.KittyAttentionVariant;
import kittyspark.runtime.kv.KvMode;
import kittyspark.runtime.kv.KvSettings;
import kittyspark.runtime.sampling.SamplingParams;

/**
 * The job's configuration: {@code reference.conf} defaults, then a {@code --conf} file, then
 * {@code --set} overrides. Unknown keys and bad values fail here, naming the key.
 */
public final class JobConfig {
    private static final String ROOT = "kitty";
    private static final String SPARK_CONF = "kitty.spark.conf";

    private final Config config;

    private JobConfig(Config config) {
        this.config = config;
    }

    public static JobConfig load(Path confFile, List<String> sets) {
        Config reference = ConfigFactory.parseResources(JobConfig.class.getClassLoader(), "reference.conf");
        Config merged = ConfigFactory.empty();
        if (confFile != null) {
            File f = confFile.toFile();
            if (!f.isFile()) {
                throw new ConfigError("config file " + confFile + " does not exist");
            }
            try {
                merged = ConfigFactory.parseFile(f, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new ConfigError("config file " + confFile + ": " + e.getMessage());
            }
        }
        for (String s : sets == null ? List.<String>of() : sets) {
            merged = override(s).withFallback(merged);
        }
        Config all = merged.withFallback(reference);
        try {
            all = all.resolve();
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
        rejectUnknownKeys(all, reference);
        JobConfig jc = new JobConfig(all);
        jc.pipeline(Path.of("."), null); // validate every value now
        jc.maxErrorRate();
        jc.executorWait();
        return jc;
    }

    /** {@code key=value}; the key may leave out the {@code kitty.} prefix; the value is HOCON or a plain string. */
    private static Config override(String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new ConfigError("--set expects key=value, got '" + set + "'");
        }
        String key = set.substring(0, eq).trim();
        String value = set.substring(eq + 1).trim();
        if (!key.startsWith(ROOT + ".")) {
            key = ROOT + "." + key;
        }
        String origin = "--set " + set;
        try {
            Config parsed = ConfigFactory.parseString("v = " + value, ConfigParseOptions.defaults().setOriginDescription(origin));
            return ConfigFactory.empty().withValue(key, parsed.getValue("v"));
        } catch (ConfigException e) {
            return ConfigFactory.empty().withValue(key, ConfigValueFactory.fromAnyRef(value, origin));
        }
    }

    private static void rejectUnknownKeys(Config all, Config reference) {
        Set<String> known = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : reference.getConfig(ROOT).entrySet()) {
            known.add(ROOT + "." + e.getKey());
        }
        known.add(SPARK_CONF);
        for (Map.Entry<String, ConfigValue> e : all.getConfig(ROOT).entrySet()) {
            String key = ROOT + "." + e.getKey();
            if (key.startsWith(SPARK_CONF + ".") || known.contains(key)) {
                continue;
            }
            throw new ConfigError("unknown config key '" + key + "'" + suggestion(key, known)
                    + "; see docs/config.md for every key");
        }
    }

    private static String suggestion(String key, Set<String> known) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(key, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best != null && bestD <= 4 ? " (did you mean '" + best + "'?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * The pipeline's config.
     *
     * @param defaultModel used when {@code kitty.model} is empty
     * @param modelOverride {@code --model}, or null
     */
    public PipelineConfig pipeline(Path defaultModel, Path modelOverride) {
        String model = modelOverride != null ? modelOverride.toString()
                : string("kitty.model").isEmpty() ? defaultModel.toString() : string("kitty.model");
        String truncate = string("kitty.prompt.truncate");
        if (!truncate.equals("none") && !truncate.equals("left")) {
            throw new ConfigError("kitty.prompt.truncate must be none or left, got '" + truncate + "'");
        }
        KvSettings kv = value("kitty.kv.mode", () -> KvSettings.of(KvMode.parse(string("kitty.kv.mode"))));
        if (kv.mode() == KvMode.KITTY) {
            KvSettings k = kv;
            kv = value("kitty.kv.boost-fraction", () -> k.withBoostFraction(dbl("kitty.kv.boost-fraction")));
            KvSettings k2 = kv;
            kv = value("kitty.kv.sink", () -> k2.withSink(integer("kitty.kv.sink")));
        }
        KvSettings kvFinal = kv;
        PipelineConfig.SamplingDefaults sampling = value("kitty.sampling", () -> {
            var s = new PipelineConfig.SamplingDefaults(integer("kitty.sampling.max-new-tokens"),
                    dbl("kitty.sampling.temperature"), integer("kitty.sampling.top-k"), dbl("kitty.sampling.top-p"),
                    config.getStringList("kitty.sampling.stop"));
            new kittyspark.runtime.sampling.SamplingParams(s.maxNewTokens(), s.temperature(), s.topK(), s.topP(), 0L, s.stop());
            return s;
        });
        CudaOptions cuda = value("kitty.engine.cuda", () -> new CudaOptions(dbl("kitty.engine.cuda.kv-fraction"),
                string("kitty.engine.cuda.precision"), KvSettings.parse("fp16"), dbl("kitty.engine.cuda.fp16-share"),
                longValue("kitty.engine.cuda.reference-tokens"), bool("kitty.engine.cuda.cublas"),
                KittyAttentionVariant.parse(string("kitty.engine.cuda.kitty-attention")), bool("kitty.engine.cuda.cuda-graphs")));
        PipelineConfig.EngineSettings engine = value("kitty.engine.device", () -> new PipelineConfig.EngineSettings(
                string("kitty.engine.device"), nonNegative("kitty.engine.threads"), nonNegative("kitty.engine.max-batch"),
                nonNegativeLong("kitty.engine.kv-budget-bytes"), positive("kitty.engine.prefill-chunk"), cuda));
        Duration progress = duration("kitty.run.progress-interval");
        PipelineConfig.RunSettings run = new PipelineConfig.RunSettings(nonNegative("kitty.run.partitions"),
                nonNegative("kitty.run.max-in-flight-per-task"), positive("kitty.run.commit-rows"), progress,
                bool("kitty.run.retry-errors"), duration("kitty.run.lock-stale-after"));
        double fraction = dbl("kitty.fidelity.fraction");
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new ConfigError("kitty.fidelity.fraction must be in [0, 1], got " + fraction);
        }
        PipelineConfig.WeightsDigest digest = value("kitty.model-digest",
                () -> PipelineConfig.WeightsDigest.parse(string("kitty.model-digest")));
        return new PipelineConfig(model, digest,
                value("kitty.input", () -> new PipelineConfig.Columns(string("kitty.input.id-column"),
                        string("kitty.input.prompt-column"), string("kitty.input.messages-column"))),
                sampling, longValue("kitty.sampling.seed"), kvFinal,
                truncate.equals("left"), nonNegative("kitty.prompt.max-tokens"), fraction, engine, run);
    }

    /** Share of this run's rows that may be errors before the job exits non-zero; 1 = never. */
    public double maxErrorRate() {
        double r = dbl("kitty.run.max-error-rate");
        if (!(r >= 0 && r <= 1)) {
            throw new ConfigError("kitty.run.max-error-rate must be in [0, 1], got " + r);
        }
        return r;
    }

    /** How long the driver waits for a first executor before saying what the job asks for. */
    public Duration executorWait() {
        return duration("kitty.spark.executor-wait");
    }

    public String sparkMaster() {
        return string("kitty.spark.master");
    }

    public String appName() {
        return string("kitty.spark.app-name");
    }

    /** A value and where it was set, for messages. */
    public record Sourced(String value, String origin) {
    }

    /** Extra Spark settings from {@code kitty.spark.conf}, each with where it was set. */
    public Map<String, Sourced> sparkConf() {
        Map<String, Sourced> m = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : config.getConfig(SPARK_CONF).entrySet()) {
            m.put(e.getKey().replace("\"", ""), new Sourced(String.valueOf(e.getValue().unwrapped()),
                    SPARK_CONF + " in " + describe(e.getValue().origin())));
        }
        return m;
    }

    /** Where a key's value was set: a --job-conf file and line, a --set, or the job's defaults. */
    public String origin(String key) {
        return describe(config.getValue(key).origin());
    }

    private static String describe(com.typesafe.config.ConfigOrigin origin) {
        String d = origin.description();
        return d.startsWith("reference.conf") || d.contains("reference.conf @") ? "the job's defaults (reference.conf)" : d;
    }

    // Typed getters that turn typesafe-config's exceptions into messages naming the key.

    private interface Getter<T> {
        T get();
    }

    private static <T> T value(String key, Getter<T> g) {
        try {
            return g.get();
        } catch (ConfigError e) {
            throw e;
        } catch (ConfigException e) {
            throw new ConfigError(key + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ConfigError(key + ": " + e.getMessage());
        }
    }

    private String string(String key) {
        return value(key, () -> config.getString(key));
    }

    private int integer(String key) {
        wholeNumber(key);
        return value(key, () -> config.getInt(key));
    }

    private long longValue(String key) {
        wholeNumber(key);
        return value(key, () -> config.getLong(key));
    }

    /** typesafe-config reads 1.5 as the int 1 and 1e20 as the largest long; an integer key must hold an integer. */
    private void wholeNumber(String key) {
        Number n = value(key, () -> config.getNumber(key));
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (d != Math.rint(d)) {
                throw new ConfigError(key + " must be a whole number, got " + n);
            }
            if (d >= 0x1p63 || d < -0x1p63) {
                throw new ConfigError(key + " must fit in a 64-bit integer, got " + n);
            }
        }
    }

    private double dbl(String key) {
        double d = value(key, () -> config.getDouble(key));
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw new ConfigError(key + " must be a finite number, got " + d);
        }
        return d;
    }

    private boolean bool(String key) {
        return value(key, () -> config.getBoolean(key));
    }

    private Duration duration(String key) {
        Duration d = value(key, () -> config.getDuration(key));
        if (d.isZero() || d.isNegative()) {
            throw new ConfigError(key + " must be a positive duration, got " + d);
        }
        return d;
    }

    private int positive(String key) {
        int v = integer(key);
        if (v <= 0) {
            throw new ConfigError(key + " must be > 0, got " + v);
        }
        return v;
    }

    private int nonNegative(String key) {
        int v = integer(key);
        if (v < 0) {
            throw new ConfigError(key + " must be >= 0, got " + v);
        }
        return v;
    }

    private long nonNegativeLong(String key) {
        long v = longValue(key);
        if (v < 0) {
            throw new ConfigError(key + " must be >= 0, got " + v);
        }
        return v;
    }

    /** A configuration problem; the message names the key and what is wrong. */
    public static final class ConfigError extends RuntimeException {
        public ConfigError(String message) {
            super(message);
        }
    }

    static List<String> keys() {
        List<String> out = new ArrayList<>();
        ConfigFactory.parseResources(JobConfig.class.getClassLoader(), "reference.conf").getConfig(ROOT).entrySet()
                .forEach(e -> out.add(ROOT + "." + e.getKey()));
        return out;
    }
}
