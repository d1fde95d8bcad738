package kittyspark.runtime.backend.cuda.gemm;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import jcuda.driver.CUdeviceptr;
import kittyspark.runtime.backend.cuda.driver.CudaContext;
import kittyspark.runtime.backend.cuda.driver.DeviceAddresses;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulAlgo_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import static org.bytedeco.cuda.global.cublas.*;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;

/**
 * The machine's cuBLAS and cuBLASLt (CUDA 13, through the org.bytedeco:cuda bindings) on the
 * engine's context and stream. JCuda keeps the context, the memory and our launches; cuBLAS
 * gets the device addresses and the stream's handle, and works in the caller's workspace.
 *
 * <p>Row-major {@code out[M,N] = a[M,K] . w[N,K]^T} is, column-major, {@code out^T[N,M] =
 * w^T . a^T} with w read transposed: the "TN" GEMM (m = N, n = M, ld = K, K, N).
 *
 * <p>Not thread-safe: the backend calls it under its own lock, on the thread that holds the
 * context.
 */
public final class Cublas implements AutoCloseable {
    /** Workspace cuBLASLt is given (its recommendation for Hopper). */
    public static final long WORKSPACE_BYTES = 32L << 20;
    /** Heuristic algorithms asked of cuBLASLt per shape. */
    public static final int HEURISTIC_RESULTS = 8;

    private static final Object LOAD_LOCK = new Object();
    private static boolean loadTried;
    private static String loadFailure;

    private final cublasContext handle = new cublasContext();
    private final cublasLtContext lt = new cublasLtContext();
    private final CUstream_st stream;
    private final Pointer workspace;
    private final long workspaceBytes;
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private cublasLtMatmulDescOpaque_t matmul;
    private final Map<LtKey, LtShape> ltShapes = new HashMap<>();
    private boolean closed;

    /** cuBLAS when it starts here, else why not (for the log). */
    public record Availability(Cublas cublas, String reason) {
        public boolean available() {
            return cublas != null;
        }
    }

    /**
     * Loads the bindings and the machine's libcudart, libcublas and libcublasLt, once per process.
     *
     * @return null when they load, else why they do not
     */
    public static String loadFailure() {
        synchronized (LOAD_LOCK) {
            if (!loadTried) {
                loadTried = true;
                try {
                    // The runtime bindings too: the stream handle is one of their types.
                    Loader.load(org.bytedeco.cuda.global.cudart.class);
                    Loader.load(org.bytedeco.cuda.global.cublas.class);
                } catch (LinkageError | RuntimeException e) {
                    loadFailure = "cuBLAS does not load here (" + rootMessage(e)
                            + "); it needs CUDA 13's libcudart.so.13, libcublas.so.13 and libcublasLt.so.13 and an NVIDIA driver";
                }
            }
            return loadFailure;
        }
    }

    /**
     * Starts cuBLAS on {@code ctx} (made current on this thread) and its stream; never throws
     * for a machine without cuBLAS.
     *
     * @param workspace      device memory cuBLAS and cuBLASLt may use, owned by the caller and
     *                       used only in stream order
     * @param workspaceBytes its size ({@link #WORKSPACE_BYTES} recommended)
     */
    public static Availability open(CudaContext ctx, CUdeviceptr workspace, long workspaceBytes) {
        String failure = loadFailure();
        if (failure != null) {
            return new Availability(null, failure);
        }
        ctx.makeCurrent();
        try {
            return new Availability(new Cublas(ctx, workspace, workspaceBytes), null);
        } catch (RuntimeException e) {
            return new Availability(null, "cuBLAS did not start: " + e.getMessage());
        }
    }

    private Cublas(CudaContext ctx, CUdeviceptr workspace, long workspaceBytes) {
        this.stream = new CUstream_st(at(DeviceAddresses.of(ctx.stream())));
        this.workspace = at(DeviceAddresses.of(workspace));
        this.workspaceBytes = workspaceBytes;
        check(cublasCreate_v2(handle), "cublasCreate");
        try {
            check(cublasSetStream_v2(handle, stream), "cublasSetStream");
            check(cublasSetWorkspace_v2(handle, this.workspace, workspaceBytes), "cublasSetWorkspace");
            check(cublasLtCreate(lt), "cublasLtCreate");
            PointerPointer<?> pp = new PointerPointer<>(1);
            check(cublasLtMatmulDescCreate(pp, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
            matmul = new cublasLtMatmulDescOpaque_t(pp.get(0));
            check(cublasLtMatmulDescSetAttribute(matmul, CUBLASLT_MATMUL_DESC_TRANSA, new IntPointer(new int[] {CUBLAS_OP_T}), 4),
                    "CUBLASLT_MATMUL_DESC_TRANSA");
            check(cublasLtMatmulDescSetAttribute(matmul, CUBLASLT_MATMUL_DESC_TRANSB, new IntPointer(new int[] {CUBLAS_OP_N}), 4),
                    "CUBLASLT_MATMUL_DESC_TRANSB");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** e.g. "cuBLAS 13.1.0 (cuBLASLt 130100)". */
    public String version() {
        int[] v = new int[1];
        check(cublasGetVersion_v2(handle, v), "cublasGetVersion");
        return String.format(Locale.ROOT, "cuBLAS %d.%d.%d (cuBLASLt %d)", v[0] / 10000, v[0] / 100 % 100, v[0] % 100,
                cublasLtGetVersion());
    }

    /** cublasGemmEx, bf16 in, fp32 compute and out: {@code out (+)= a . w^T}. */
    void gemmEx(CUdeviceptr a, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate) {
        check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, one, at(DeviceAddresses.of(w)), CUDA_R_16BF, k,
                at(DeviceAddresses.of(a)), CUDA_R_16BF, k, accumulate ? one : zero, at(DeviceAddresses.of(out)), CUDA_R_32F, n,
                CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT), "cublasGemmEx");
    }

    /** cublasLtMatmul with the shape's {@code rank}-th heuristic algorithm (the last one if it has fewer). */
    void ltMatmul(int rank, CUdeviceptr a, CUdeviceptr w, CUdeviceptr out, int m, int n, int k, boolean accumulate, int alignment) {
        LtShape s = ltShape(m, n, k, alignment);
        if (s.count == 0) {
            throw new IllegalStateException("cuBLASLt has no algorithm for " + m + "x" + n + "x" + k + " at " + alignment
                    + "-byte alignment");
        }
        long d = DeviceAddresses.of(out);
        check(cublasLtMatmul(lt, matmul, one, at(DeviceAddresses.of(w)), s.w, at(DeviceAddresses.of(a)), s.a,
                accumulate ? one : zero, at(d), s.out, at(d), s.out, s.algo(Math.min(rank, s.count - 1)), workspace,
                workspaceBytes, stream), "cublasLtMatmul");
    }

    /** How many heuristic algorithms cuBLASLt has for the shape (operands aligned to 256 bytes). */
    int ltAlgorithms(int m, int n, int k) {
        return ltShape(m, n, k, 256).count;
    }

    /**
     * The rank-th algorithm's configuration, e.g. "algo 66 tile 128x256 splitK 1 #5f3a09c1": the
     * fields that matter most, then a digest of the whole opaque algorithm (swizzle, reduction,
     * cluster shape...), so equal descriptions mean the same algorithm.
     */
    String ltDescribe(int rank, int m, int n, int k) {
        LtShape s = ltShape(m, n, k, 256);
        if (rank >= s.count) {
            return "none";
        }
        cublasLtMatmulAlgo_t algo = s.algo(rank);
        long digest = 17;
        for (int i = 0; i < 8; i++) {
            digest = digest * 1_000_003L + algo.data(i);
        }
        return String.format(Locale.ROOT, "algo %d tile %s splitK %d #%08x", config(algo, CUBLASLT_ALGO_CONFIG_ID),
                tileName(config(algo, CUBLASLT_ALGO_CONFIG_TILE_ID)), config(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM),
                (int) (digest ^ (digest >>> 32)));
    }

    /** The largest power of two (up to 256) that every one of the addresses is a multiple of. */
    static int alignment(long... addresses) {
        long bits = 256;
        for (long a : addresses) {
            bits |= a;
        }
        return (int) Long.lowestOneBit(bits);
    }

    private LtShape ltShape(int m, int n, int k, int alignment) {
        return ltShapes.computeIfAbsent(new LtKey(m, n, k, alignment), key -> new LtShape(key));
    }

    private record LtKey(int m, int n, int k, int alignment) {
    }

    /** One shape's matrix layouts and heuristic algorithms (kept: the algorithms live in this memory). */
    private final class LtShape {
        final cublasLtMatrixLayoutOpaque_t w;
        final cublasLtMatrixLayoutOpaque_t a;
        final cublasLtMatrixLayoutOpaque_t out;
        final cublasLtMatmulPreferenceOpaque_t preference;
        final cublasLtMatmulHeuristicResult_t results = new cublasLtMatmulHeuristicResult_t(HEURISTIC_RESULTS);
        final int count;

        LtShape(LtKey key) {
            // Column-major: w is K x N (ld K) read transposed, a is K x M (ld K), out is N x M (ld N).
            w = layout(CUDA_R_16BF, key.k(), key.n(), key.k());
            a = layout(CUDA_R_16BF, key.k(), key.m(), key.k());
            out = layout(CUDA_R_32F, key.n(), key.m(), key.n());
            PointerPointer<?> pp = new PointerPointer<>(1);
            check(cublasLtMatmulPreferenceCreate(pp), "cublasLtMatmulPreferenceCreate");
            preference = new cublasLtMatmulPreferenceOpaque_t(pp.get(0));
            check(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                    new LongPointer(new long[] {workspaceBytes}), 8), "CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES");
            for (int attr : new int[] {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
                check(cublasLtMatmulPreferenceSetAttribute(preference, attr, new IntPointer(new int[] {key.alignment()}), 4),
                        "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT");
            }
            int[] returned = new int[1];
            int status = cublasLtMatmulAlgoGetHeuristic(lt, matmul, w, a, out, out, preference, HEURISTIC_RESULTS, results,
                    returned);
            // NOT_SUPPORTED: no algorithm for this shape (the candidate declines it).
            count = status == CUBLAS_STATUS_SUCCESS ? returned[0] : 0;
        }

        cublasLtMatmulAlgo_t algo(int rank) {
            return results.getPointer(rank).algo();
        }

        void destroy() {
            cublasLtMatrixLayoutDestroy(w);
            cublasLtMatrixLayoutDestroy(a);
            cublasLtMatrixLayoutDestroy(out);
            cublasLtMatmulPreferenceDestroy(preference);
        }
    }

    private static cublasLtMatrixLayoutOpaque_t layout(int type, int rows, int cols, int ld) {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(cublasLtMatrixLayoutCreate(pp, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
        return new cublasLtMatrixLayoutOpaque_t(pp.get(0));
    }

    private static int config(cublasLtMatmulAlgo_t algo, int attribute) {
        IntPointer v = new IntPointer(1);
        SizeTPointer written = new SizeTPointer(1);
        return cublasLtMatmulAlgoConfigGetAttribute(algo, attribute, v, 4, written) == CUBLAS_STATUS_SUCCESS ? v.get() : -1;
    }

    /** "128x256" for CUBLASLT_MATMUL_TILE_128x256 (the enum's own names). */
    private static String tileName(int id) {
        String prefix = "CUBLASLT_MATMUL_TILE_";
        for (Field f : org.bytedeco.cuda.global.cublas.class.getFields()) {
            try {
                if (f.getName().startsWith(prefix) && f.getType() == int.class && f.getInt(null) == id) {
                    return f.getName().substring(prefix.length());
                }
            } catch (IllegalAccessException e) {
                break;
            }
        }
        return Integer.toString(id);
    }

    private static Pointer at(long address) {
        return new DevicePointer(address);
    }

    /** A JavaCPP pointer to an address JavaCPP did not allocate (and will never free). */
    private static final class DevicePointer extends Pointer {
        DevicePointer(long address) {
            this.address = address;
        }
    }

    private static void check(int status, String what) {
        if (status != CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException(what + " failed: " + cublasGetStatusString(status).getString() + " (" + status + ")");
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + ": " + r.getMessage();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LtShape s : ltShapes.values()) {
            s.destroy();
        }
        ltShapes.clear();
        if (matmul != null) {
            cublasLtMatmulDescDestroy(matmul);
        }
        if (!lt.isNull()) {
            cublasLtDestroy(lt);
        }
        if (!handle.isNull()) {
            cublasDestroy_v2(handle);
        }
    }
}
