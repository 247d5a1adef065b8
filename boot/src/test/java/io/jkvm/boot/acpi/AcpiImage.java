package io.jkvm.boot.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jkvm.memory.GuestMemory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test helper: the tables found in guest memory by walking from the RSDP as an OS does
 * (RSDP → XSDT → entries; FADT → X_DSDT), each checked for signature, length and checksum.
 */
final class AcpiImage {
    static final long RSDP = 0xE0000;
    static final long TABLES = 0xE1000;
    static final int POWER_PORT = 0x600;

    final byte[] rsdp;
    /** By signature, in discovery order: XSDT, its entries, then DSDT. */
    final Map<String, byte[]> tables = new LinkedHashMap<>();
    final Map<String, Long> addresses = new LinkedHashMap<>();
    final AcpiTables.Placement placement;

    private AcpiImage(GuestMemory memory, AcpiTables.Placement placement) {
        this.placement = placement;
        rsdp = memory.read(placement.rsdpAddress(), AcpiTables.RSDP_LENGTH);
        assertEquals("RSD PTR ", new String(rsdp, 0, 8, StandardCharsets.US_ASCII));
        assertEquals(0, AcpiChecksum.sum(rsdp, 0, 20), "RSDP checksum");
        assertEquals(0, AcpiChecksum.sum(rsdp, 0, 36), "RSDP extended checksum");
        long xsdt = le(rsdp, 24, 8);
        byte[] x = table(memory, xsdt, "XSDT");
        for (int off = 36; off < x.length; off += 8) {
            long a = le(x, off, 8);
            table(memory, a, new String(memory.read(a, 4), StandardCharsets.US_ASCII));
        }
        table(memory, le(tables.get("FACP"), 140, 8), "DSDT");
    }

    static AcpiImage write(AcpiPlatform platform) {
        try (GuestMemory memory = GuestMemory.allocate(2 << 20)) {
            return new AcpiImage(memory, AcpiTables.write(memory, RSDP, TABLES, platform));
        }
    }

    static AcpiImage write(int cpus, List<VirtioMmioWindow> devices) {
        return write(AcpiPlatform.of(cpus, devices, POWER_PORT));
    }

    private byte[] table(GuestMemory memory, long address, String signature) {
        byte[] header = memory.read(address, 36);
        assertEquals(signature, new String(header, 0, 4, StandardCharsets.US_ASCII));
        byte[] t = memory.read(address, (int) le(header, 4, 4));
        assertEquals(0, AcpiChecksum.sum(t, 0, t.length), signature + " checksum");
        assertArrayEquals("JKVM  ".getBytes(StandardCharsets.US_ASCII), java.util.Arrays.copyOfRange(t, 10, 16));
        assertEquals(null, tables.put(signature, t), "duplicate " + signature);
        addresses.put(signature, address);
        return t;
    }

    static long le(byte[] b, int offset, int length) {
        long v = 0;
        for (int i = length - 1; i >= 0; i--) v = v << 8 | (b[offset + i] & 0xFF);
        return v;
    }

    static List<VirtioMmioWindow> virtioDevices(int n) {
        List<VirtioMmioWindow> list = new ArrayList<>();
        for (int i = 0; i < n; i++) list.add(new VirtioMmioWindow(0xD000_0000L + i * 0x1000L, 5 + i));
        return list;
    }
}
