package kittyspark.runtime.backend.cuda.driver;

/** No CUDA driver or no such device: the message says which, and what to use instead. */
public final class CudaUnavailableException extends IllegalStateException {
    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
