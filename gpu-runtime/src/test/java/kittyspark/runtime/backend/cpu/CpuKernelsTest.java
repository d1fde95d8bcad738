package kittyspark.runtime.backend.cpu;

import java.nio.file.Path;
import java.util.SplittableRandom;

import kittyspark.runtime.checkpoint.Checkpoint;
import kittyspark.runtime.checkpoint.DType;
import kittyspark.runtime.checkpoint.SafetensorsFile;
import kittyspark.runtime.checkpoint.SafetensorsWriter;
import kittyspark.runtime.checkpoint.WeightTensor;
import kittyspark.runtime.kv.AttentionKernel;
import kittyspark.runtime.testing.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SIMD kernels give the scalar kernels' bits: matrix products for every weight type, batch
 * size and split, attention for head sizes with and without a tail. Shapes are chosen to leave
 * odd row lengths, rows past the last whole register block and partial blocks of four.
 */
class CpuKernelsTest {
    @TempDir
    static Path tmp;
    static final CpuKernels SCALAR = CpuKernels.select("scalar");
    static CpuKernels vector;

    @BeforeAll
    static void vectorKernels() {
        assertTrue(ModuleLayer.boot().findModule(CpuKernels.VECTOR_MODULE).isPresent(),
                "the build starts test JVMs with --add-modules jdk.incubator.vector (surefire argLine)");
        vector = CpuKernels.select("vector");
    }

    @Test
    void autoChoosesTheVectorKernelsWhenTheJvmHasTheModule() {
        assertTrue(vector.name().startsWith("vector-"), vector.name());
        assertEquals(vector.name(), CpuKernels.select("auto").name());
        assertEquals("scalar", SCALAR.name());
    }

    @Test
    void anUnknownKernelSetIsRejectedNamingTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuKernels.select("avx"));
        assertTrue(e.getMessage().contains(CpuKernels.PROPERTY), e.getMessage());
    }

    private static WeightTensor weight(DType dtype, int out, int in, long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian() * 0.3f;
        }
        Path file = tmp.resolve(dtype + "-" + out + "x" + in + "-" + seed + ".safetensors");
        new SafetensorsWriter().add("w", dtype, w, out, in).write(file);
        return SafetensorsFile.open(file).tensors().get("w");
    }

    private static float[] random(int len, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static float[] product(CpuKernels k, WeightTensor w, float[] x, int n) {
        MatMul mm = k.matMul(w);
        float[] y = new float[n * w.rows()];
        mm.rows(mm.prepare(x, n), n, y, 0, w.rows());
        return y;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void vectorMatrixProductsGiveTheScalarBits(DType dtype) throws Exception {
        for (int in : new int[] {7, 64, 101}) {
            for (int out : new int[] {1, 6, 37, 70}) {
                WeightTensor w = weight(dtype, out, in, in * 31L + out);
                for (int n : new int[] {1, 2, 5, 17}) {
                    float[] x = random(n * in, n);
                    assertArrayEquals(product(SCALAR, w, x, n), product(vector, w, x, n),
                            dtype + " in=" + in + " out=" + out + " n=" + n);
                }
            }
        }
    }

    @Test
    void vectorMatrixProductsGiveTheScalarBitsOnEveryLayerOfTheDemoModel() {
        kittyspark.runtime.checkpoint.Checkpoint ckpt = kittyspark.runtime.checkpoint.Checkpoint.open(
                kittyspark.runtime.testing.TestData.demoModel());
        for (String name : new String[] {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.3.mlp.down_proj.weight", "model.embed_tokens.weight"}) {
            WeightTensor w = ckpt.tensor(name);
            for (int n : new int[] {1, 16}) {
                float[] x = random(n * w.cols(), n);
                assertArrayEquals(product(SCALAR, w, x, n), product(vector, w, x, n), name + " n=" + n);
            }
        }
    }

    @Test
    void aSplitOverThreadsGivesTheSameBitsAsOneRange() throws Exception {
        WeightTensor w = weight(DType.BF16, 70, 101, 5);
        int n = 9;
        float[] x = random(n * 101, 3);
        MatMul mm = vector.matMul(w);
        float[] xp = mm.prepare(x, n);
        float[] whole = new float[n * 70];
        mm.rows(xp, n, whole, 0, 70);
        float[] split = new float[n * 70];
        int cut = mm.blockRows();
        mm.rows(xp, n, split, 0, cut);
        mm.rows(xp, n, split, cut, 70);
        assertArrayEquals(whole, split);
    }

    @ParameterizedTest(name = "{0} query rows of {1} heads")
    @org.junit.jupiter.params.provider.CsvSource({"5, 3", "1, 1", "1, 3", "2, 1"})
    void vectorAttentionGivesTheReferenceBits(int n, int heads) {
        AttentionKernel v = vector.attention();
        for (int headDim : new int[] {20, 64, 70}) {
            int length = 37;
            int kvStride = 2 * headDim; // two KV heads interleaved; attend over the second
            int qStride = heads * headDim + 4;
            float[] keys = random(length * kvStride, 1);
            float[] values = random(length * kvStride, 2);
            float[] q = random(n * qStride, 3);
            float[] expected = new float[n * qStride];
            float[] got = new float[n * qStride];
            AttentionKernel.REFERENCE.causalRows(keys, headDim, kvStride, values, length, headDim, q, 2, qStride, heads, n, 0, n, expected);
            v.causalRows(keys, headDim, kvStride, values, length, headDim, q, 2, qStride, heads, n, 0, n, got);
            assertArrayEquals(expected, got, "headDim " + headDim);
        }
    }

    @Test
    void attentionSplitOverThreadsGivesTheSameBitsAsOneCall() {
        int headDim = 64, heads = 3, length = 300, n = 200;
        float[] keys = random(length * headDim, 4);
        float[] values = random(length * headDim, 5);
        float[] q = random(n * heads * headDim, 6);
        float[] one = new float[q.length];
        float[] split = new float[q.length];
        vector.attention().causalRows(keys, 0, headDim, values, length, headDim, q, 0, heads * headDim, heads, n, 0, n, one);
        try (WorkerPool pool = new WorkerPool(3)) {
            new PooledAttention(vector.attention(), pool)
                    .causalRows(keys, 0, headDim, values, length, headDim, q, 0, heads * headDim, heads, n, 0, n, split);
        }
        assertArrayEquals(one, split);
    }
}
