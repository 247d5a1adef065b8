package io.jkvm.boot.acpi;

import io.jkvm.devices.acpi.AcpiPowerDevice;
import io.jkvm.memory.GuestMemory;
import java.util.List;

/**
 * Writes jkvm's ACPI tables into guest memory: the RSDP at {@code rsdpAddress}, and DSDT, FADT, MADT and
 * XSDT one after another (8-byte aligned) from {@code tablesAddress}. RSDP → XSDT → {FADT → DSDT, MADT}.
 *
 * <p>The platform is hardware-reduced ACPI (ACPI 6.4 §4.1): power-off and reset go through
 * {@link AcpiPowerDevice}'s ports, COM1 is declared at 0x3F8/IRQ 4, the CMOS RTC (when present) at
 * 0x70/IRQ 8, and each virtio-mmio window is a
 * {@code LNRO0005} device.
 */
public final class AcpiTables {
    /** The 16550 the DSDT declares as COM1 (ISA standard). */
    static final int COM1_PORT = 0x3F8;
    static final int COM1_GSI = 4;
    /** The CMOS RTC the DSDT declares when the platform has one (PC/AT: ports 0x70-0x71, ISA IRQ 8). */
    static final int CMOS_RTC_PORT = 0x70;
    static final int CMOS_RTC_GSI = 8;
    /** The i8042 the DSDT declares when the platform has one (PC/AT: data 0x60, command 0x64, keyboard on ISA IRQ 1). */
    static final int I8042_DATA_PORT = 0x60;
    static final int I8042_COMMAND_PORT = 0x64;
    static final int I8042_KEYBOARD_GSI = 1;
    private static final int TABLE_ALIGNMENT = 8;
    /** Bytes the RSDP occupies at {@code rsdpAddress}. */
    public static final int RSDP_LENGTH = Rsdp.LENGTH;

    private AcpiTables() {}

    /**
     * Where the tables went. Mark both ranges ACPI-reclaimable or reserved in the e820 map (the RSDP's
     * range usually lies inside the reserved BIOS area 0xE0000-0xFFFFF already).
     *
     * @param rsdpAddress the RSDP, {@link #RSDP_LENGTH} bytes; pass it to the kernel (boot_params.acpi_rsdp_addr)
     * @param tablesAddress start of the other tables
     * @param tablesLength bytes used from {@code tablesAddress}
     */
    public record Placement(long rsdpAddress, long tablesAddress, long tablesLength) {
        public long tablesEnd() {
            return tablesAddress + tablesLength;
        }
    }

    /**
     * Builds the tables for {@code platform} and writes them.
     *
     * @param rsdpAddress 16-byte aligned; an OS that scans for the RSDP looks in 0xE0000-0xFFFFF (§5.2.5.1)
     * @param tablesAddress where DSDT, FADT, MADT and XSDT go; must not overlap the RSDP
     * @throws io.jkvm.memory.GuestMemoryException if a range is not in guest RAM
     */
    public static Placement write(GuestMemory memory, long rsdpAddress, long tablesAddress, AcpiPlatform platform) {
        if (rsdpAddress % Rsdp.ALIGNMENT != 0)
            throw new IllegalArgumentException(String.format("RSDP address %#x is not 16-byte aligned", rsdpAddress));
        if (tablesAddress % TABLE_ALIGNMENT != 0)
            throw new IllegalArgumentException(String.format("tables address %#x is not 8-byte aligned", tablesAddress));

        Dsdt dsdt = new Dsdt(AcpiPowerDevice.S5_SLEEP_TYPE).addSerialPort(COM1_PORT, COM1_GSI);
        if (platform.cmosRtc()) dsdt.addCmosRtc(CMOS_RTC_PORT, CMOS_RTC_GSI);
        if (platform.i8042()) dsdt.addPs2Keyboard(I8042_DATA_PORT, I8042_COMMAND_PORT, I8042_KEYBOARD_GSI);
        platform.virtioMmio().forEach(dsdt::addVirtioMmio);

        TableArea area = new TableArea(tablesAddress);
        long dsdtAddress = area.add(dsdt.toBytes());
        int port = platform.powerDevicePort();
        long fadtAddress = area.add(new Fadt(dsdtAddress, platform.pmProfile(),
                port + AcpiPowerDevice.SLEEP_CONTROL, port + AcpiPowerDevice.SLEEP_STATUS, port + AcpiPowerDevice.RESET,
                AcpiPowerDevice.RESET_VALUE, bootArchitecture(platform)).toBytes());
        long madtAddress = area.add(new Madt(platform.cpus(), platform.interruptSourceOverrides(),
                platform.pcatCompatible()).toBytes());
        long xsdtAddress = area.add(new Xsdt(List.of(fadtAddress, madtAddress)).toBytes());
        byte[] rsdp = new Rsdp(xsdtAddress).toBytes();

        if (rsdpAddress < area.end() && tablesAddress < rsdpAddress + rsdp.length)
            throw new IllegalArgumentException(String.format("RSDP [%#x, +%#x) overlaps the tables [%#x, %#x)",
                    rsdpAddress, rsdp.length, tablesAddress, area.end()));
        memory.hostAddress(tablesAddress, area.end() - tablesAddress); // bounds check before writing anything
        memory.hostAddress(rsdpAddress, rsdp.length);
        area.writeTo(memory);
        memory.write(rsdpAddress, rsdp);
        return new Placement(rsdpAddress, tablesAddress, area.end() - tablesAddress);
    }

    private static int bootArchitecture(AcpiPlatform p) {
        return Fadt.LEGACY_DEVICES | Fadt.VGA_NOT_PRESENT | Fadt.MSI_NOT_SUPPORTED | Fadt.PCIE_ASPM_CONTROLS
                | (p.i8042() ? Fadt.HAS_8042 : 0) | (p.cmosRtc() ? 0 : Fadt.CMOS_RTC_NOT_PRESENT);
    }

    /** Tables laid out one after another from a start address, each aligned to {@link #TABLE_ALIGNMENT}. */
    private static final class TableArea {
        private final long start;
        private final ByteWriter bytes = new ByteWriter();

        TableArea(long start) {
            this.start = start;
        }

        long add(byte[] table) {
            while (bytes.size() % TABLE_ALIGNMENT != 0) bytes.u8(0);
            long address = start + bytes.size();
            bytes.bytes(table);
            return address;
        }

        long end() {
            return start + bytes.size();
        }

        void writeTo(GuestMemory memory) {
            memory.write(start, bytes.toByteArray());
        }
    }
}
