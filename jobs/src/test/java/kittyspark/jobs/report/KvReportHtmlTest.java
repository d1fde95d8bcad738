package kittyspark.jobs.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.eval.KeyChannelMagnitudes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The eval-kv HTML page: honest axes, a still chart, each mode against fp16, boosted channels marked, provenance. */
class KvReportHtmlTest {
    static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode report() {
        ObjectNode r = JSON.createObjectNode();
        r.put("model", "m").put("input", "docs.jsonl").put("max_tokens", 64).put("prefill", 32).put("n_docs", 2)
                .put("n_positions", 64).put("seconds", 1.0).put("command", "kitty-spark eval-kv --input docs.jsonl")
                .put("created", "2026-01-02T03:04:05Z").put("commit", "abc123def456");
        var modes = r.putArray("modes");
        modes.addObject().put("kv", "fp16").put("nll_mean", 1.8).put("ppl", 6.21).put("kl_vs_fp16", 0.0)
                .put("top1_vs_fp16", 1.0).put("bits_per_element", 16.0).put("bits_per_element_all", 16.0);
        modes.addObject().put("kv", "kitty(boost 0.25)").put("nll_mean", 1.83).put("ppl", 6.37767).put("kl_vs_fp16", 0.01)
                .put("top1_vs_fp16", 0.97).put("bits_per_element", 2.5).put("bits_per_element_all", 3.1);
        return r;
    }

    @Test
    void thePageSaysWhereItCameFromAndComparesEachModeWithFp16() throws Exception {
        String html = KvReportHtml.render(report(), null, new KvReportHtml.Boost(4, 0.25));
        assertTrue(html.contains("kitty-spark eval-kv --input docs.jsonl"));
        assertTrue(html.contains("2026-01-02T03:04:05Z") && html.contains("abc123def456") && html.contains("docs.jsonl"));
        assertTrue(html.contains("<td>+2.70%</td>"), "6.37767 against 6.21");
        assertTrue(html.contains("<td>reference</td>"));
        assertTrue(html.contains("yAxis: [{ type: 'value', name: 'perplexity', min: 0 }"), "the perplexity axis starts at 0");
        assertFalse(html.contains("scale: true"));
        assertEquals(2, html.split("animation: false", -1).length - 1, "neither chart animates");
        assertEquals("+2.70%", KvReportHtml.versusFp16(6.37767, 6.21));
    }

    @Test
    void theHeatmapMarksTheChannelsTheQuantizerBoostsOnEachPage() throws Exception {
        // 2 KV heads of 4 channels, 2 pages; 25% of 4 = 1 boosted channel per head and page.
        float[][] mag = {{0.1f, 3f, 0.2f, 0.1f, 0.5f, 0.4f, 0.3f, 2f}, {2.5f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 4f, 0.1f}};
        String html = KvReportHtml.render(report(), new KeyChannelMagnitudes.Heatmap(0, 16, 8, mag), new KvReportHtml.Boost(4, 0.25));
        assertTrue(html.contains("data: [[1,0],[7,0],[0,1],[6,1]]"), "the largest channel of each head on each page");
        assertTrue(html.contains("dark red = large"), "the legend says which end is high");
        assertTrue(html.contains("1 of 4 channels per KV head"));
    }
}
