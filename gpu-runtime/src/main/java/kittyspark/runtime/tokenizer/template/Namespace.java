package kittyspark.runtime.tokenizer.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** What {@code namespace(...)} returns: the one value a template may change from inside a loop. */
final class Namespace {
    final Map<String, Object> attrs = new LinkedHashMap<>();
}
