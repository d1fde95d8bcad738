package kittyspark.jobs;

import java.util.ArrayList;
import java.util.List;

import com.typesafe.config.ConfigFactory;

/** Every key of reference.conf (for the documentation check). */
final class JobConfigKeys {
    private JobConfigKeys() {
    }

    static List<String> all() {
        List<String> keys = new ArrayList<>();
        ConfigFactory.parseResources("reference.conf").getConfig("kitty").entrySet()
                .forEach(e -> keys.add("kitty." + e.getKey()));
        keys.add("kitty.spark.conf");
        return keys;
    }
}
