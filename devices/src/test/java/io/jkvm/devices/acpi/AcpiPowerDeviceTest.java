package io.jkvm.devices.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jkvm.bus.Bus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AcpiPowerDeviceTest {
    private static final int BASE = 0x600;
    private int powerOffs;
    private int resets;
    private Bus bus;

    @BeforeEach
    void setUp() {
        bus = new Bus("pio");
        bus.register(BASE, AcpiPowerDevice.LENGTH, new AcpiPowerDevice(() -> powerOffs++, () -> resets++));
    }

    @Test
    void linuxSoftOffSequencePowersOff() {
        // acpi_hw_extended_sleep(): clear WAK_STS, then SLP_TYPx = 5 in bits 4:2 plus SLP_EN (bit 5).
        bus.write(BASE + AcpiPowerDevice.SLEEP_STATUS, 1, 0x80);
        assertEquals(0, powerOffs);
        bus.write(BASE + AcpiPowerDevice.SLEEP_CONTROL, 1, (5 << 2) | 0b10_0000); // 0x34
        assertEquals(1, powerOffs);
        assertEquals(0, resets);
        // The guest then polls WAK_STS; it stays clear.
        assertEquals(0, bus.read(BASE + AcpiPowerDevice.SLEEP_STATUS, 1) & 0x80);
    }

    @Test
    void sleepTypeWithoutSlpEnOrOtherTypeDoesNothing() {
        bus.write(BASE + AcpiPowerDevice.SLEEP_CONTROL, 1, 5 << 2);          // SLP_EN clear
        bus.write(BASE + AcpiPowerDevice.SLEEP_CONTROL, 1, (3 << 2) | 0x20); // S3-like type, not our \_S5
        bus.write(BASE + AcpiPowerDevice.SLEEP_CONTROL, 2, 0x34);            // not a byte access
        assertEquals(0, powerOffs);
    }

    @Test
    void reservedBitsDoNotHideSoftOff() {
        bus.write(BASE + AcpiPowerDevice.SLEEP_CONTROL, 1, 0x34 | 0b1100_0011);
        assertEquals(1, powerOffs);
    }

    @Test
    void resetValueResets() {
        bus.write(BASE + AcpiPowerDevice.RESET, 1, AcpiPowerDevice.RESET_VALUE);
        assertEquals(1, resets);
        assertEquals(0, powerOffs);
    }

    @Test
    void otherValuesToResetRegisterAreIgnored() {
        bus.write(BASE + AcpiPowerDevice.RESET, 1, 0x06);
        bus.write(BASE + AcpiPowerDevice.RESET, 1, 0x00);
        bus.write(BASE + AcpiPowerDevice.RESET, 2, AcpiPowerDevice.RESET_VALUE);
        assertEquals(0, resets);
    }
}
