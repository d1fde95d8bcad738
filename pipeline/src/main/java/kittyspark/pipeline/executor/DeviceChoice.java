package kittyspark.pipeline.executor;

/**
 * Which device an executor's engine runs on, decided from {@code kitty.engine.device} and the
 * GPU address Spark assigned the task (null when it assigned none).
 *
 * @param device           the device to try first ("cpu" or "cuda:N")
 * @param gpu              the Spark GPU address, or null
 * @param cpuFallback      if the device is a GPU that cannot be used (no CUDA), use the CPU
 *                         backend instead (only for {@code auto}; the fallback is logged)
 */
public record DeviceChoice(String device, String gpu, boolean cpuFallback) {

    public static DeviceChoice resolve(String setting, String gpuAddress) {
        switch (setting) {
            case "cpu":
                return new DeviceChoice("cpu", gpuAddress, false);
            case "auto":
                return gpuAddress == null ? new DeviceChoice("cpu", null, false)
                        : new DeviceChoice(cudaDevice(gpuAddress), gpuAddress, true);
            case "cuda":
                if (gpuAddress == null) {
                    throw new IllegalStateException("kitty.engine.device = cuda but Spark assigned this task no GPU; "
                            + "set spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount, or use auto");
                }
                return new DeviceChoice(cudaDevice(gpuAddress), gpuAddress, false);
            default:
                return new DeviceChoice(setting, gpuAddress, false); // cuda:N, validated by the config
        }
    }

    private static String cudaDevice(String address) {
        if (!address.matches("\\d+")) {
            throw new IllegalStateException("GPU address '" + address + "' from Spark's resource discovery is not a "
                    + "CUDA device ordinal; the discovery script must print numeric addresses");
        }
        return "cuda:" + address;
    }
}
