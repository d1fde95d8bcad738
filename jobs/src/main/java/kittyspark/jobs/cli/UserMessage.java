package kittyspark.jobs.cli;

import kittyspark.runtime.backend.cuda.driver.CudaUnavailableException;

/**
 * The one sentence a user sees for a failure. Messages are the user's to act on; causes can be
 * pages long (JCuda's native-library errors carry whole nested stack traces in their message),
 * so only a cause's first line is kept. {@code -Dkitty.debug=true} prints the full trace.
 */
public final class UserMessage {
    private UserMessage() {
    }

    public static String of(Throwable e) {
        if (e instanceof CudaUnavailableException) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return "CUDA is not available on this machine (" + cause.getClass().getSimpleName() + ": "
                    + firstLine(cause.getMessage()) + "); the cuda:N devices need an NVIDIA driver (libcuda.so.1) and a GPU;"
                    + " use --device cpu";
        }
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return firstLine(m);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl).strip();
    }
}
