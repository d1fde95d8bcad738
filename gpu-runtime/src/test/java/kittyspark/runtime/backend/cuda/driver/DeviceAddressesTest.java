package kittyspark.runtime.backend.cuda.driver;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeviceAddressesTest {
    @Test
    void aDevicePointersAddressIncludesEveryByteOffsetTakenFromIt() {
        CUdeviceptr base = new CUdeviceptr();
        assertEquals(0, DeviceAddresses.of(base));
        assertEquals(256, DeviceAddresses.of(base.withByteOffset(256)));
        assertEquals(256 + 4096, DeviceAddresses.of(base.withByteOffset(256).withByteOffset(4096)));
    }

    @Test
    void aStreamThatWasNeverCreatedIsTheNullStream() {
        assertEquals(0, DeviceAddresses.of(new CUstream()));
    }
}
