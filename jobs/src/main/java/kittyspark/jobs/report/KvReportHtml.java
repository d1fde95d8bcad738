package kittyspark.jobs.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import kittyspark.kvquant.ChannelBoost;
import kittyspark.runtime.eval.KeyChannelMagnitudes;

/**
 * The eval-kv report as one self-contained HTML page: where it came from (command, input,
 * date, commit), the table with each mode's perplexity against fp16, a chart of perplexity
 * (axis from 0) and bits per mode, and a heatmap of per-channel key magnitude with the
 * channels Kitty boosts marked. ECharts is inlined so the page opens offline, where batch jobs
 * usually run; animation is off so a screenshot shows the finished chart.
 */
public final class KvReportHtml {
    private static final ObjectMapper JSON = new ObjectMapper();

    private KvReportHtml() {
    }

    /** How the heatmap's boosted channels are chosen: per KV head of {@code headDim} channels, {@code fraction} of them. */
    public record Boost(int headDim, double fraction) {
    }

    /** Perplexity relative to fp16's, as the table and chart print it ("+2.7%"), or "" without an fp16 row. */
    static String versusFp16(double ppl, Double fp16) {
        if (fp16 == null || fp16 <= 0) {
            return "";
        }
        return String.format(Locale.ROOT, "%+.2f%%", 100 * (ppl / fp16 - 1));
    }

    public static String render(ObjectNode report, KeyChannelMagnitudes.Heatmap heatmap, Boost boost) throws IOException {
        Double fp16 = null;
        for (JsonNode m : report.withArray("modes")) {
            if (m.get("kv").asText().startsWith("fp16")) {
                fp16 = m.get("ppl").asDouble();
            }
        }
        StringBuilder rows = new StringBuilder();
        ArrayNode labels = JSON.createArrayNode();
        ArrayNode ppl = JSON.createArrayNode();
        ArrayNode pplVs = JSON.createArrayNode();
        ArrayNode bits = JSON.createArrayNode();
        ArrayNode bitsAll = JSON.createArrayNode();
        for (JsonNode m : report.withArray("modes")) {
            double p = m.get("ppl").asDouble();
            String vs = m.get("kv").asText().startsWith("fp16") ? "reference" : versusFp16(p, fp16);
            rows.append(String.format(Locale.ROOT,
                    "<tr><td>%s</td><td>%.4f</td><td>%.4f</td><td>%s</td><td>%.5f</td><td>%.2f%%</td><td>%.4f</td><td>%.4f</td></tr>%n",
                    escape(m.get("kv").asText()), m.get("nll_mean").asDouble(), p, vs,
                    m.get("kl_vs_fp16").asDouble(), 100 * m.get("top1_vs_fp16").asDouble(),
                    m.get("bits_per_element").asDouble(), m.get("bits_per_element_all").asDouble()));
            labels.add(m.get("kv").asText().replaceAll("\\(.*", ""));
            ppl.add(p);
            pplVs.add(vs.equals("reference") || vs.isEmpty() ? "" : " (" + vs + ")");
            bits.add(m.get("bits_per_element").asDouble());
            bitsAll.add(m.get("bits_per_element_all").asDouble());
        }
        ArrayNode cells = JSON.createArrayNode();
        ArrayNode boosted = JSON.createArrayNode();
        int perHead = 0;
        float max = 0;
        if (heatmap != null) {
            perHead = ChannelBoost.boostedChannels(boost.fraction(), boost.headDim());
            for (int p = 0; p < heatmap.magnitude().length; p++) {
                float[] page = heatmap.magnitude()[p];
                for (int c = 0; c < heatmap.channels(); c++) {
                    cells.add(JSON.createArrayNode().add(c).add(p).add(Math.round(page[c] * 1000) / 1000.0));
                    max = Math.max(max, page[c]);
                }
                // A page's mean |k| per channel is exactly the quantizer's score: one row of "tokens".
                for (int h = 0; h * boost.headDim() < heatmap.channels(); h++) {
                    for (int d : ChannelBoost.select(page, h * boost.headDim(), 0, 1, boost.headDim(), perHead)) {
                        boosted.add(JSON.createArrayNode().add(h * boost.headDim() + d).add(p));
                    }
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
                .replace("{{COMMAND}}", escape(report.path("command").asText("-")))
                .replace("{{INPUT}}", escape(report.path("input").asText("-")))
                .replace("{{CREATED}}", escape(report.path("created").asText("-")))
                .replace("{{COMMIT}}", escape(report.path("commit").asText("-")))
                .replace("{{ROWS}}", rows)
                .replace("{{LABELS}}", labels.toString())
                .replace("{{PPL}}", ppl.toString())
                .replace("{{PPL_VS}}", pplVs.toString())
                .replace("{{BITS}}", bits.toString())
                .replace("{{BITS_ALL}}", bitsAll.toString())
                .replace("{{HEAT_LAYER}}", heatmap == null ? "-" : String.valueOf(heatmap.layer()))
                .replace("{{HEAT_PAGE}}", heatmap == null ? "-" : String.valueOf(heatmap.pageSize()))
                .replace("{{HEAT_CHANNELS}}", String.valueOf(heatmap == null ? 0 : heatmap.channels()))
                .replace("{{HEAT_PAGES}}", String.valueOf(heatmap == null ? 0 : heatmap.magnitude().length))
                .replace("{{HEAT_MAX}}", String.valueOf(max))
                .replace("{{HEAT_BOOSTED}}", String.valueOf(perHead))
                .replace("{{HEAT_HEAD_DIM}}", String.valueOf(boost == null ? 0 : boost.headDim()))
                .replace("{{HEAT_BOOST}}", boosted.toString())
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
