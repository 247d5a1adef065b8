package io.jkvm.devices.acpi;

import io.jkvm.bus.BusDevice;
import java.util.Objects;

/**
 * The fixed hardware of a hardware-reduced ACPI platform that jkvm provides: the Sleep Control, Sleep
 * Status and Reset registers the FADT points at (ACPI 6.4 §4.8.3.7 and §4.8.3.6, FADT fields
 * SLEEP_CONTROL_REG, SLEEP_STATUS_REG, RESET_REG). Three one-byte registers in one port I/O range of
 * {@link #LENGTH} bytes; the machine chooses the base port and the FADT names the same ports.
 *
 * <p>Linux powers off through {@code acpi_hw_extended_sleep()} (drivers/acpi/acpica/hwesleep.c): it writes
 * WAK_STS ({@code 0x80}) to the status register, then {@code (S5 type << 2) | SLP_EN} to the control
 * register, then polls WAK_STS. With {@link #S5_SLEEP_TYPE} = 5 the control write is {@code 0x34}. It resets
 * through {@code acpi_reboot()} by writing the FADT's RESET_VALUE to the reset register.
 *
 * <p>Writes wider than one byte are ignored: the FADT declares 8-bit registers.
 */
public final class AcpiPowerDevice implements BusDevice {
    /** Offset of the Sleep Control Register (ACPI 6.4 §4.8.3.7.1). */
    public static final int SLEEP_CONTROL = 0;
    /** Offset of the Sleep Status Register (ACPI 6.4 §4.8.3.7.2). */
    public static final int SLEEP_STATUS = 1;
    /** Offset of the Reset Register (ACPI 6.4 §4.8.3.6). */
    public static final int RESET = 2;
    /** Bytes of port I/O space the device occupies. */
    public static final int LENGTH = 3;

    /** The SLP_TYPx value of the \_S5 (soft-off) object in jkvm's DSDT. Any 3-bit value would do. */
    public static final int S5_SLEEP_TYPE = 5;
    /** The value the FADT tells the guest to write to the reset register (RESET_VALUE). */
    public static final int RESET_VALUE = 0x01;

    /** Sleep Control Register: SLP_TYPx, bits 4:2. */
    static final int SLP_TYP_MASK = 0b0001_1100;
    static final int SLP_TYP_SHIFT = 2;
    /** Sleep Control Register: SLP_EN, bit 5. */
    static final int SLP_EN = 0b0010_0000;

    private final Runnable powerOff;
    private final Runnable reset;

    /**
     * @param powerOff run on the writing vCPU's thread when the guest enters S5 (soft off)
     * @param reset run on the writing vCPU's thread when the guest writes {@link #RESET_VALUE} to the reset register
     */
    public AcpiPowerDevice(Runnable powerOff, Runnable reset) {
        this.powerOff = Objects.requireNonNull(powerOff, "powerOff");
        this.reset = Objects.requireNonNull(reset, "reset");
    }

    @Override
    public String name() {
        return "acpi";
    }

    /** The FADT's names of the registers. */
    @Override
    public String register(long offset, boolean write, long value) {
        return switch ((int) offset) {
            case SLEEP_CONTROL -> "SLEEP_CONTROL_REG";
            case SLEEP_STATUS -> "SLEEP_STATUS_REG";
            case RESET -> "RESET_REG";
            default -> BusDevice.super.register(offset, write, value);
        };
    }

    /**
     * Every register reads 0. In particular WAK_STS (Sleep Status bit 7) is never set: the platform has no
     * sleep state it could wake from (the DSDT declares only \_S5), so a guest that polls it after a soft-off
     * request simply waits until the machine stops it.
     */
    @Override
    public long read(long offset, int size) {
        return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size != 1) return;
        int v = (int) value & 0xff;
        if (offset == SLEEP_CONTROL) {
            if ((v & SLP_EN) != 0 && (v & SLP_TYP_MASK) >>> SLP_TYP_SHIFT == S5_SLEEP_TYPE) powerOff.run();
        } else if (offset == RESET && v == RESET_VALUE) {
            reset.run();
        }
        // SLEEP_STATUS: the guest clears WAK_STS (write 1 to clear), which is always 0 here.
    }
}
