package kittyspark.kvquant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bits per element follow from the page layout alone. */
class KvMemoryTest {
    @Test
    void kittyAtHeadDim64() {
        assertEquals(2.8125, KvMemory.keyBitsPerElement(QuantConfig.kitty(), 64));
        assertEquals(2.5, KvMemory.valueBitsPerElement(QuantConfig.kitty(), 64));
        assertEquals(2.65625, KvMemory.pageBitsPerElement(QuantConfig.kitty(), 64));
    }

    @Test
    void kittyAtHeadDim128() {
        assertEquals(2.53125, KvMemory.pageBitsPerElement(QuantConfig.kitty(), 128));
    }

    @Test
    void kiviAtHeadDim64() {
        assertEquals(2.375, KvMemory.pageBitsPerElement(QuantConfig.kivi(), 64));
    }

    @Test
    void aPageIsAboutSixTimesSmallerThanFp16() {
        double ratio = KvMemory.FULL_PRECISION_BITS / KvMemory.pageBitsPerElement(QuantConfig.kitty(), 128);
        assertEquals(6.32, ratio, 0.01);
    }
}
