package kittyspark.jobs.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.runtime.eval.KeyChannelMagnitudes;

/**
 * The eval-kv report as one self-contained HTML page: the table, a chart of perplexity and
 * bits per mode, and a heatmap of per-channel key magnitude. ECharts is inlined so the page
 * opens offline, where batch jobs usually run.
 */
public final class KvReportHtml {
    private static final ObjectMapper JSON = new ObjectMapper();

    private KvReportHtml() {
    }

    public static String render(ObjectNode report, KeyChannelMagnitudes.Heatmap heatmap) throws IOException {
        StringBuilder rows = new StringBuilder();
        ArrayNode labels = JSON.createArrayNode();
        ArrayNode ppl = JSON.createArrayNode();
        ArrayNode bits = JSON.createArrayNode();
        ArrayNode bitsAll = JSON.createArrayNode();
        for (var m : report.withArray("modes")) {
            rows.append(String.format(Locale.ROOT,
                    "<tr><td>%s</td><td>%.4f</td><td>%.4f</td><td>%.5f</td><td>%.2f%%</td><td>%.4f</td><td>%.4f</td></tr>%n",
                    escape(m.get("kv").asText()), m.get("nll_mean").asDouble(), m.get("ppl").asDouble(),
                    m.get("kl_vs_fp16").asDouble(), 100 * m.get("top1_vs_fp16").asDouble(),
                    m.get("bits_per_element").asDouble(), m.get("bits_per_element_all").asDouble()));
            labels.add(m.get("kv").asText().replaceAll("\\(.*", ""));
            ppl.add(m.get("ppl").asDouble());
            bits.add(m.get("bits_per_element").asDouble());
            bitsAll.add(m.get("bits_per_element_all").asDouble());
        }
        ArrayNode cells = JSON.createArrayNode();
        float max = 0;
        if (heatmap != null) {
            for (int p = 0; p < heatmap.magnitude().length; p++) {
                for (int c = 0; c < heatmap.channels(); c++) {
                    float v = heatmap.magnitude()[p][c];
                    cells.add(JSON.createArrayNode().add(c).add(p).add(Math.round(v * 1000) / 1000.0));
                    max = Math.max(max, v);
                }
            }
        }
        String template = resource("kittyspark/report/kv-report.html");
        return template
                .replace("{{TITLE}}", "Kitty KV-cache report: " + escape(report.path("model").asText()))
                .replace("{{SUMMARY}}", escape(String.format(Locale.ROOT,
                        "%d documents, %d decoded positions each mode; first %d tokens prefilled, up to %d tokens per document; %.0f s",
                        report.get("n_docs").asInt(), report.get("n_positions").asLong(), report.get("prefill").asInt(),
                        report.get("max_tokens").asInt(), report.path("seconds").asDouble())))
                .replace("{{ROWS}}", rows)
                .replace("{{LABELS}}", labels.toString())
                .replace("{{PPL}}", ppl.toString())
                .replace("{{BITS}}", bits.toString())
                .replace("{{BITS_ALL}}", bitsAll.toString())
                .replace("{{HEAT_LAYER}}", heatmap == null ? "-" : String.valueOf(heatmap.layer()))
                .replace("{{HEAT_PAGE}}", heatmap == null ? "-" : String.valueOf(heatmap.pageSize()))
                .replace("{{HEAT_CHANNELS}}", String.valueOf(heatmap == null ? 0 : heatmap.channels()))
                .replace("{{HEAT_PAGES}}", String.valueOf(heatmap == null ? 0 : heatmap.magnitude().length))
                .replace("{{HEAT_MAX}}", String.valueOf(max))
                .replace("{{HEAT}}", cells.toString())
                .replace("{{ECHARTS}}", resource("kittyspark/report/echarts.min.js"));
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = KvReportHtml.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
