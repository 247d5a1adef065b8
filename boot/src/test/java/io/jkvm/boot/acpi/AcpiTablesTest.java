package io.jkvm.boot.acpi;

import static io.jkvm.boot.acpi.AcpiImage.le;
import static io.jkvm.boot.acpi.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.Bus;
import io.jkvm.devices.acpi.AcpiPowerDevice;
import io.jkvm.memory.GuestMemory;
import io.jkvm.memory.GuestMemoryException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class AcpiTablesTest {

    private static String hexRange(byte[] b, int from, int length) {
        return hex(Arrays.copyOfRange(b, from, from + length));
    }

    private static void assertHex(String expected, byte[] b, int from) {
        assertEquals(hex(hex(expected)), hexRange(b, from, hex(expected).length));
    }

    @Test
    void rsdpLeadsToXsdtWhichListsFadtAndMadt() {
        AcpiImage img = AcpiImage.write(1, List.of());
        assertEquals(2, img.rsdp[15], "RSDP revision");
        assertEquals(0, le(img.rsdp, 16, 4), "no RSDT");
        assertEquals(36, le(img.rsdp, 20, 4), "RSDP length");
        assertEquals(List.of("XSDT", "FACP", "APIC", "DSDT"), List.copyOf(img.tables.keySet()));
        assertEquals(36 + 2 * 8, img.tables.get("XSDT").length);

        AcpiTables.Placement p = img.placement;
        assertEquals(AcpiImage.RSDP, p.rsdpAddress());
        assertEquals(AcpiImage.TABLES, p.tablesAddress());
        for (String sig : img.tables.keySet()) {
            long a = img.addresses.get(sig);
            assertEquals(0, a % 8, sig + " aligned");
            assertTrue(a >= p.tablesAddress() && a + img.tables.get(sig).length <= p.tablesEnd(), sig + " inside the range");
        }
        long used = img.tables.values().stream().mapToLong(t -> t.length).sum();
        assertTrue(p.tablesLength() >= used && p.tablesLength() < used + 4 * 8, "range is tight: " + p);
    }

    @Test
    void fadtIsHardwareReducedWithSleepAndResetRegistersOnThePowerDevicePorts() {
        AcpiImage img = AcpiImage.write(1, List.of());
        byte[] f = img.tables.get("FACP");
        assertEquals(276, f.length);
        assertEquals(6, f[8], "revision");
        assertEquals(0, le(f, 36, 4), "no FACS");
        assertEquals(img.addresses.get("DSDT"), le(f, 40, 4), "DSDT");
        assertEquals(img.addresses.get("DSDT"), le(f, 140, 8), "X_DSDT");
        assertEquals(0, le(f, 46, 2), "SCI_INT");
        // PWR_BUTTON (4) | SLP_BUTTON (5) | RESET_REG_SUP (10) | HW_REDUCED_ACPI (20)
        assertEquals(0b1_0000_0000_0100_0011_0000L, le(f, 112, 4), "flags");
        // IAPC_BOOT_ARCH: legacy devices (0), VGA not present (2), MSI not supported (3), ASPM (4), no CMOS RTC (5).
        assertEquals(0b11_1101, le(f, 109, 2));
        // GAS: SystemIO (1), 8 bits, offset 0, byte access (1), port 0x600 + offset.
        assertHex("01 08 00 01  02 06 00 00 00 00 00 00", f, 116);     // RESET_REG at 0x602
        assertEquals(AcpiPowerDevice.RESET_VALUE, f[128]);
        assertEquals(4, f[131], "FADT minor version");
        assertHex("01 08 00 01  00 06 00 00 00 00 00 00", f, 244);     // SLEEP_CONTROL_REG at 0x600
        assertHex("01 08 00 01  01 06 00 00 00 00 00 00", f, 256);     // SLEEP_STATUS_REG at 0x601
        for (int gas = 148; gas < 244; gas++) assertEquals(0, f[gas], "X_PM/GPE blocks absent");
    }

    @Test
    void fadtBootFlagsFollowThePlatform() {
        AcpiPlatform p = new AcpiPlatform(1, List.of(), 0x600, List.of(), true, true, true, PmProfile.ENTERPRISE_SERVER);
        byte[] f = AcpiImage.write(p).tables.get("FACP");
        // 8042 present (1) and CMOS RTC present (bit 5 clear).
        assertEquals(0b01_1111, le(f, 109, 2));
        assertEquals(4, f[45], "PM profile");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void madtHasOneEnabledLocalApicPerCpu(int cpus) {
        byte[] m = AcpiImage.write(cpus, List.of()).tables.get("APIC");
        assertEquals(36 + 8 + 8 * cpus + 12 + 6, m.length);
        assertEquals(0xFEE0_0000L, le(m, 36, 4));
        assertEquals(1, le(m, 40, 4), "PCAT_COMPAT");
        for (int cpu = 0; cpu < cpus; cpu++) {
            // type 0, length 8, UID, APIC ID, flags Enabled.
            assertHex(String.format("00 08 %02X %02X 01 00 00 00", cpu, cpu), m, 44 + 8 * cpu);
        }
        int io = 44 + 8 * cpus;
        assertHex("01 0C 00 00  00 00 C0 FE  00 00 00 00", m, io);     // I/O APIC id 0 at 0xFEC00000, GSI base 0
        assertHex("04 06 FF 00 00 01", m, io + 12);                       // LAPIC NMI, all CPUs, LINT1
    }

    @Test
    void madtWithInterruptSourceOverride() {
        AcpiPlatform p = new AcpiPlatform(2, List.of(), 0x600, List.of(InterruptSourceOverride.pitOnGsi2()),
                false, false, false, PmProfile.UNSPECIFIED);
        byte[] m = AcpiImage.write(p).tables.get("APIC");
        assertEquals(0, le(m, 40, 4), "no PCAT_COMPAT");
        // type 2, length 10, bus 0 (ISA), IRQ 0, GSI 2, flags 0b0101 (edge, active high).
        assertHex("02 0A 00 00  02 00 00 00  05 00", m, 44 + 16 + 12);
        assertEquals(0b1111, new InterruptSourceOverride(9, 9, InterruptPolarity.ACTIVE_LOW, InterruptTrigger.LEVEL).intiFlags());
    }

    @Test
    void madtRejectsCpuCountsXapicCannotAddress() {
        assertThrows(IllegalArgumentException.class, () -> AcpiImage.write(0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> AcpiImage.write(256, List.of()));
    }

    private static final String COM1 = """
            5B 82 31 43 4F 4D 31
              08 5F 48 49 44 0C 41 D0 05 01
              08 5F 55 49 44 00
              08 5F 43 52 53 11 16 0A 13  47 01 F8 03 F8 03 01 08  89 06 00 03 01 04 00 00 00  79 00
            """;
    private static final String S5 = "08 5C 5F 53 35 5F 12 07 04 0A 05 00 00 00";

    @Test
    void dsdtWithoutVirtioDevices() {
        byte[] d = AcpiImage.write(1, List.of()).tables.get("DSDT");
        assertEquals(2, d[8], "revision 2: 64-bit integers");
        // Scope(\_SB): '\_SB_' 5 + COM1 51 = 56, PkgLength 57 = 0x39.
        // COM1: 'COM1' 4 + _HID 10 + _UID 6 + _CRS (5 + buffer 23) = 48, PkgLength 49 = 0x31.
        // \_S5: Package(4) {BytePrefix 5, Zero, Zero, Zero}.
        assertEquals(hex(hex("10 39 5C 5F 53 42 5F" + COM1 + S5)), hexRange(d, 36, d.length - 36));
    }

    @Test
    void dsdtWithCmosRtc() {
        AcpiPlatform p = new AcpiPlatform(1, List.of(), 0x600, List.of(), true, false, true, PmProfile.UNSPECIFIED);
        byte[] d = AcpiImage.write(p).tables.get("DSDT");
        // RTC_: 'RTC_' 4 + _HID 10 + _CRS (5 + buffer 23) = 42, PkgLength 43 = 0x2B.
        //   _CRS buffer: IO 8 + Interrupt 9 + End 2 = 19 = 0x13; content 21, PkgLength 22 = 0x16.
        // Scope content 5 + 51 + 45 = 101 > 62: a 2-byte PkgLength, 103 = 0x67 -> 47 06.
        String rtc = """
                5B 82 2B 52 54 43 5F
                  08 5F 48 49 44 0C 41 D0 0B 00
                  08 5F 43 52 53 11 16 0A 13  47 01 70 00 70 00 01 02  89 06 00 03 01 08 00 00 00  79 00
                """;
        assertEquals(hex(hex("10 47 06 5C 5F 53 42 5F" + COM1 + rtc + S5)), hexRange(d, 36, d.length - 36));
    }

    @Test
    void dsdtWithPs2Keyboard() {
        AcpiPlatform p = new AcpiPlatform(1, List.of(), 0x600, List.of(), true, true, false, PmProfile.UNSPECIFIED);
        byte[] d = AcpiImage.write(p).tables.get("DSDT");
        // KBD_: 'KBD_' 4 + _HID 10 + _CRS (5 + buffer 31) = 50, PkgLength 51 = 0x33.
        //   _CRS buffer: IO 8 + IO 8 + Interrupt 9 + End 2 = 27 = 0x1B; content 29, PkgLength 30 = 0x1E.
        // Scope content 5 + 51 + 53 = 109 > 62: a 2-byte PkgLength, 111 = 0x6F -> 4F 06.
        String kbd = """
                5B 82 33 4B 42 44 5F
                  08 5F 48 49 44 0C 41 D0 03 03
                  08 5F 43 52 53 11 1E 0A 1B  47 01 60 00 60 00 01 01  47 01 64 00 64 00 01 01
                    89 06 00 03 01 01 00 00 00  79 00
                """;
        assertEquals(hex(hex("10 4F 06 5C 5F 53 42 5F" + COM1 + kbd + S5)), hexRange(d, 36, d.length - 36));
    }

    @Test
    void dsdtWithOneVirtioDevice() {
        byte[] d = AcpiImage.write(1, List.of(new VirtioMmioWindow(0xD000_0000L, 5))).tables.get("DSDT");
        // V000: 'V000' 4 + _HID "LNRO0005" 15 + _UID 6 + _CRS (5 + 27) = 57, PkgLength 58 = 0x3A.
        //   _CRS buffer: Memory32Fixed 12 + Interrupt 9 + End 2 = 23 = 0x17; content 25, PkgLength 26 = 0x1A.
        // Scope content 5 + 51 + 60 = 116 > 62, so a 2-byte PkgLength: 118 = 0x76 -> 46 07.
        String v000 = """
                5B 82 3A 56 30 30 30
                  08 5F 48 49 44 0D 4C 4E 52 4F 30 30 30 35 00
                  08 5F 55 49 44 00
                  08 5F 43 52 53 11 1A 0A 17  86 09 00 01 00 00 00 D0 00 10 00 00  89 06 00 03 01 05 00 00 00  79 00
                """;
        assertEquals(hex(hex("10 46 07 5C 5F 53 42 5F" + COM1 + v000 + S5)), hexRange(d, 36, d.length - 36));
    }

    @Test
    void dsdtWithThreeVirtioDevices() {
        byte[] d = AcpiImage.write(1, AcpiImage.virtioDevices(3)).tables.get("DSDT");
        String text = new String(d, StandardCharsets.ISO_8859_1);
        for (int i = 0; i < 3; i++) {
            // Device(V00i) with _UID i (ZeroOp, OneOp, BytePrefix 2) and its window and GSI.
            int at = text.indexOf("V00" + i);
            assertTrue(at > 0, "V00" + i);
            String uid = i == 0 ? "00" : i == 1 ? "01" : "0A 02";
            assertHex("08 5F 55 49 44 " + uid, d, at + 4 + 15);
            int crs = text.indexOf("\u0086", at);
            assertHex(String.format("86 09 00 01  00 %02X 00 D0  00 10 00 00  89 06 00 03 01 %02X 00 00 00  79 00",
                    i * 0x10, 5 + i), d, crs);
        }
        assertEquals(3, text.split("LNRO0005", -1).length - 1);
        assertEquals(-1, text.indexOf("V003"));
    }

    @Test
    void guestPowerOffSequenceFromTheTablesReachesThePowerDevice() {
        // Do what Linux does, reading only the tables: \_S5's first element, FADT SLEEP_CONTROL_REG.
        AcpiImage img = AcpiImage.write(2, AcpiImage.virtioDevices(1));
        byte[] d = img.tables.get("DSDT");
        int s5 = new String(d, StandardCharsets.ISO_8859_1).indexOf("_S5_");
        assertHex("12 07 04 0A", d, s5 + 4);
        int slpTyp = d[s5 + 8];
        byte[] f = img.tables.get("FACP");
        long control = le(f, 248, 8), status = le(f, 260, 8), reset = le(f, 120, 8);

        AtomicInteger offs = new AtomicInteger(), resets = new AtomicInteger();
        Bus pio = new Bus("pio");
        pio.register(AcpiImage.POWER_PORT, AcpiPowerDevice.LENGTH, new AcpiPowerDevice(offs::incrementAndGet, resets::incrementAndGet));
        pio.write(status, 1, 0x80);                      // clear WAK_STS
        pio.write(control, 1, (slpTyp << 2) & 0x1C | 0x20); // SLP_TYPx | SLP_EN
        assertEquals(1, offs.get());
        pio.write(reset, 1, f[128]);
        assertEquals(1, resets.get());
        assertEquals(0, pio.unclaimedWrites());
    }

    @Test
    void rejectsBadPlacement() {
        try (GuestMemory memory = GuestMemory.allocate(1 << 20)) {
            AcpiPlatform p = AcpiPlatform.of(1, List.of(), 0x600);
            assertThrows(IllegalArgumentException.class, () -> AcpiTables.write(memory, 0xE0008, 0xE1000, p));
            assertThrows(IllegalArgumentException.class, () -> AcpiTables.write(memory, 0xE0000, 0xE0004, p));
            assertThrows(IllegalArgumentException.class, () -> AcpiTables.write(memory, 0xE0100, 0xE0000, p)); // overlap
            // Tables that would run past the end of RAM: nothing is written, not even the RSDP.
            assertThrows(GuestMemoryException.class, () -> AcpiTables.write(memory, 0xE0000, 0xFFF00, p));
            assertArrayEquals(new byte[36], memory.read(0xE0000, 36));
            assertFalse(memory.contains(0x10_0000, 1));
        }
    }
}
