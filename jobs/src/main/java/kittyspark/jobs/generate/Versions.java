package kittyspark.jobs.generate;

/**
 * The job jar is built against Spark 4.0.x for Scala 2.13 on Java 17+. A different Spark or
 * Scala fails later with a cryptic linkage error, so the driver says so first.
 */
public final class Versions {
    public static final String NEEDED = "Spark 4.0.x built for Scala 2.13, on Java 17 or newer";

    private Versions() {
    }

    /** Null when the versions fit, else the sentence that says what to change. */
    public static String problem(String spark, String scala, int java) {
        if (!spark.startsWith("4.0.") || !scala.startsWith("2.13.") || java < 17) {
            return "kitty-spark's job jar needs " + NEEDED + "; this is Spark " + spark + ", Scala " + scala
                    + ", Java " + java + ". Use a Spark 4.0 distribution for Scala 2.13 (spark-4.0.x-bin-hadoop3)";
        }
        return null;
    }

    /** Fails fast, naming the versions, when this JVM's Spark, Scala or Java does not fit. */
    public static void check() {
        String spark;
        String scalaVersion;
        try {
            spark = org.apache.spark.package$.MODULE$.SPARK_VERSION();
            scalaVersion = scala.util.Properties.versionNumberString();
        } catch (LinkageError e) {
            throw new JobConfig.ConfigError("kitty-spark's job jar needs " + NEEDED + "; the Spark on this classpath does not "
                    + "link with it (" + e + ")");
        }
        String p = problem(spark, scalaVersion, Runtime.version().feature());
        if (p != null) {
            throw new JobConfig.ConfigError(p);
        }
    }
}
