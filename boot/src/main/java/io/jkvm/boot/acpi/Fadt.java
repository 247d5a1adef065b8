package io.jkvm.boot.acpi;

/**
 * Fixed ACPI Description Table, revision 6 (ACPI 6.4 §5.2.9, Table 5.9), 276 bytes, for a hardware-reduced
 * platform (§4.1): no PM1/GPE blocks, no SCI, no FACS; power-off through the Sleep Control/Status registers
 * and reset through RESET_REG, all one-byte I/O ports.
 *
 * @param dsdtAddress guest-physical address of the DSDT
 * @param sleepControlPort SLEEP_CONTROL_REG port
 * @param sleepStatusPort SLEEP_STATUS_REG port
 * @param resetPort RESET_REG port
 * @param resetValue RESET_VALUE
 * @param bootArchitecture IAPC_BOOT_ARCH flags
 */
record Fadt(long dsdtAddress, PmProfile pmProfile, int sleepControlPort, int sleepStatusPort, int resetPort,
            int resetValue, int bootArchitecture) {
    static final String SIGNATURE = "FACP";
    static final int REVISION = 6;
    /** FADT Minor Version (offset 131): ACPI 6.4 tables are version 6.4, errata 0. */
    static final int MINOR_VERSION = 4;
    static final int LENGTH = 276;

    // Fixed Feature Flags (Table 5.10).
    /** The power button, if any, is a control method device; there is none. */
    static final int PWR_BUTTON = 1 << 4;
    /** The sleep button, if any, is a control method device; there is none. */
    static final int SLP_BUTTON = 1 << 5;
    /** RESET_REG describes a supported reset register. */
    static final int RESET_REG_SUP = 1 << 10;
    /** No fixed-feature hardware: the hardware-reduced ACPI interface (§4.1). */
    static final int HW_REDUCED_ACPI = 1 << 20;

    // IA-PC Boot Architecture Flags (Table 5.11).
    static final int LEGACY_DEVICES = 1 << 0;
    static final int HAS_8042 = 1 << 1;
    static final int VGA_NOT_PRESENT = 1 << 2;
    static final int MSI_NOT_SUPPORTED = 1 << 3;
    static final int PCIE_ASPM_CONTROLS = 1 << 4;
    static final int CMOS_RTC_NOT_PRESENT = 1 << 5;

    /** Hypervisor Vendor Identity (offset 268): "JKVM" as a little-endian 64-bit value. */
    private static final long HYPERVISOR_VENDOR = 0x4D56_4B4AL;

    byte[] toBytes() {
        ByteWriter b = new ByteWriter();
        b.u32(0);                                                       // 36 FIRMWARE_CTRL: no FACS
        b.u32(dsdtAddress <= 0xFFFF_FFFFL ? dsdtAddress : 0);            // 40 DSDT (same as X_DSDT if it fits)
        b.u8(0);                                                        // 44 reserved
        b.u8(pmProfile.value());                                        // 45 Preferred_PM_Profile
        b.u16(0);                                                       // 46 SCI_INT: no SCI when hardware-reduced
        b.u32(0);                                                       // 48 SMI_CMD: no SMM
        b.u8(0).u8(0).u8(0).u8(0);                                      // 52 ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
        for (int i = 0; i < 8; i++) b.u32(0);                           // 56 PM1a/b EVT, PM1a/b CNT, PM2 CNT, PM_TMR, GPE0, GPE1
        for (int i = 0; i < 8; i++) b.u8(0);                            // 88 their lengths, GPE1_BASE, CST_CNT
        b.u16(0).u16(0).u16(0).u16(0);                                  // 96 P_LVL2_LAT, P_LVL3_LAT, FLUSH_SIZE, FLUSH_STRIDE
        b.u8(0).u8(0).u8(0).u8(0).u8(0);                                // 104 DUTY_OFFSET, DUTY_WIDTH, DAY/MON_ALRM, CENTURY
        b.u16(bootArchitecture);                                        // 109 IAPC_BOOT_ARCH
        b.u8(0);                                                        // 111 reserved
        b.u32(HW_REDUCED_ACPI | RESET_REG_SUP | PWR_BUTTON | SLP_BUTTON); // 112 Flags
        GenericAddress.ioByte(resetPort).encode(b);                     // 116 RESET_REG
        b.u8(resetValue);                                               // 128 RESET_VALUE
        b.u16(0);                                                       // 129 ARM_BOOT_ARCH
        b.u8(MINOR_VERSION);                                            // 131 FADT Minor Version
        b.u64(0);                                                       // 132 X_FIRMWARE_CTRL
        b.u64(dsdtAddress);                                             // 140 X_DSDT
        for (int i = 0; i < 8; i++) GenericAddress.NONE.encode(b);      // 148 X_PM1a_EVT_BLK .. X_GPE1_BLK
        GenericAddress.ioByte(sleepControlPort).encode(b);              // 244 SLEEP_CONTROL_REG
        GenericAddress.ioByte(sleepStatusPort).encode(b);               // 256 SLEEP_STATUS_REG
        b.u64(HYPERVISOR_VENDOR);                                       // 268 Hypervisor Vendor Identity
        byte[] table = SystemDescriptionTable.build(SIGNATURE, REVISION, "JKVMFACP", b.toByteArray());
        if (table.length != LENGTH) throw new AssertionError("FADT is " + table.length + " bytes");
        return table;
    }
}
