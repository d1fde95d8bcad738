package kittyspark.kvquant;

import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pages made by the Java reference are byte-identical to those of the independent Python
 * implementation (the same files check the GPU kernels).
 */
class GoldenPagesTest {

    @ParameterizedTest
    @ValueSource(strings = {"key-designed-P8-D8-B2.json", "key-kitty-P128-D64-B16.json", "key-kivi-P128-D64-B0.json"})
    void keyPagesAreByteIdenticalToTheGoldenVectors(String file) throws Exception {
        GoldenPage g = GoldenPage.load(file);
        KeyPageLayout layout = new KeyPageLayout(g.pageSize(), g.headDim(), g.boosted());
        byte[] page = new byte[layout.bytes()];
        layout.quantize(g.input(), 0, g.headDim(), page, 0);
        assertEquals(HexFormat.of().formatHex(g.page()), HexFormat.of().formatHex(page));
        for (int t = 0; t < g.pageSize(); t++) {
            for (int d = 0; d < g.headDim(); d++) {
                assertEquals(g.codes()[t][d], layout.code(page, 0, t, d), "token " + t + " channel " + d);
            }
        }
    }

    @Test
    void valuePagesAreByteIdenticalToTheGoldenVectors() throws Exception {
        GoldenPage g = GoldenPage.load("value-P128-D64.json");
        ValuePageLayout layout = new ValuePageLayout(g.pageSize(), g.headDim());
        byte[] page = new byte[layout.bytes()];
        layout.quantize(g.input(), 0, g.headDim(), page, 0);
        assertEquals(HexFormat.of().formatHex(g.page()), HexFormat.of().formatHex(page));
    }

    @Test
    void aPageWhoseValuesSitOnTheGridDequantizesExactly() throws Exception {
        // Every channel of the designed input is min + code * step with fp16-exact min and step,
        // and its codes span 0..2^b-1, so the quantizer must give back the input exactly.
        GoldenPage g = GoldenPage.load("key-designed-P8-D8-B2.json");
        KeyPageLayout layout = new KeyPageLayout(g.pageSize(), g.headDim(), g.boosted());
        byte[] page = new byte[layout.bytes()];
        layout.quantize(g.input(), 0, g.headDim(), page, 0);
        float[] back = new float[g.input().length];
        layout.dequantize(page, 0, back, 0, g.headDim());
        for (int d = 0; d < 7; d++) { // channel 7 is constant: it comes back within the 1e-6 scale floor
            for (int t = 0; t < g.pageSize(); t++) {
                assertEquals(g.input()[t * g.headDim() + d], back[t * g.headDim() + d], "token " + t + " channel " + d);
            }
        }
    }

    @Test
    void theDesignedPageBoostsTheTwoLargestChannels() throws Exception {
        GoldenPage g = GoldenPage.load("key-designed-P8-D8-B2.json");
        KeyPageLayout layout = new KeyPageLayout(g.pageSize(), g.headDim(), g.boosted());
        byte[] page = new byte[layout.bytes()];
        layout.quantize(g.input(), 0, g.headDim(), page, 0);
        byte[] index = java.util.Arrays.copyOfRange(page, layout.indexOffset(), layout.indexOffset() + g.headDim());
        // channel 2 (values 10..25) ranks first, channel 5 (-20..10) second; the rest read B = 2
        assertArrayEquals(new byte[] {2, 2, 0, 2, 2, 1, 2, 2}, index);
    }
}
