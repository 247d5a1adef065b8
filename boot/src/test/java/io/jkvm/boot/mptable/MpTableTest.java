package io.jkvm.boot.mptable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jkvm.memory.GuestMemory;
import io.jkvm.memory.GuestMemoryException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reads the tables back the way Linux's arch/x86/kernel/mpparse.c does: pointer, header, then entry by entry. */
class MpTableTest {
    private static final long POINTER = 0x9fc00, TABLE = 0xc0000;
    private static final long LAPIC = 0xfee0_0000L, IOAPIC = 0xfec0_0000L;

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int sum(byte[] b) {
        int s = 0;
        for (byte x : b) s += x;
        return s & 0xFF;
    }

    /** The configuration table's entries, each as its bytes, after checking pointer and header. */
    private static List<byte[]> entries(GuestMemory memory, int cpus) {
        byte[] fp = memory.read(POINTER, 16);
        assertEquals("_MP_", new String(fp, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(TABLE, le(fp).getInt(4));
        assertEquals(1, fp[8], "length in paragraphs");
        assertEquals(4, fp[9], "spec revision 1.4");
        assertEquals(0, sum(fp), "floating pointer checksum");
        assertEquals(0, fp[11], "feature byte 1: a table is present, not a default configuration");

        ByteBuffer h = le(memory.read(TABLE, 44));
        int length = h.getShort(4) & 0xFFFF;
        assertEquals(MpTable.configTableLength(cpus), length);
        byte[] table = memory.read(TABLE, length);
        assertEquals("PCMP", new String(table, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(4, table[6]);
        assertEquals(0, sum(table), "configuration table checksum");
        assertEquals("JKVM    jkvm machine", new String(table, 8, 20, StandardCharsets.US_ASCII));
        assertEquals((int) LAPIC, h.getInt(36));
        assertEquals(0, h.getShort(40), "no extended entries");

        List<byte[]> entries = new ArrayList<>();
        int off = 44;
        for (int i = 0; i < (h.getShort(34) & 0xFFFF); i++) {
            int size = table[off] == MpTable.ENTRY_PROCESSOR ? 20 : 8;
            byte[] e = new byte[size];
            System.arraycopy(table, off, e, 0, size);
            entries.add(e);
            off += size;
        }
        assertEquals(length, off, "entry count matches the length");
        return entries;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, MpTable.MAX_CPUS})
    void describesEveryCpuTheIoApicAndItsPins(int cpus) {
        try (GuestMemory memory = GuestMemory.allocate(1 << 20)) {
            MpTable.write(memory, POINTER, TABLE, cpus, LAPIC, 0, IOAPIC);
            List<byte[]> entries = entries(memory, cpus);
            for (int cpu = 0; cpu < cpus; cpu++) {
                byte[] p = entries.get(cpu);
                assertEquals(0, p[0]);
                assertEquals(cpu, p[1] & 0xFF, "local APIC ID");
                assertEquals(cpu == 0 ? 0b11 : 0b01, p[3], "enabled; only vCPU 0 is the bootstrap processor");
            }
            HexFormat hex = HexFormat.ofDelimiter(" ");
            List<byte[]> rest = entries.subList(cpus, entries.size());
            assertEquals("01 00 49 53 41 20 20 20", hex.formatHex(rest.get(0)), "bus 0 is ISA");
            assertEquals("02 00 11 01 00 00 c0 fe", hex.formatHex(rest.get(1)), "I/O APIC 0, enabled, at 0xfec00000");
            List<Integer> pins = new ArrayList<>();
            for (byte[] e : rest.subList(2, rest.size() - 2)) {
                assertEquals(3, e[0], "I/O interrupt assignment");
                assertEquals(0, e[1], "INT");
                assertEquals(0, le(e).getShort(2), "conforms to ISA: edge, active high");
                assertEquals(e[5], e[7], "ISA IRQ n on pin n, as KVM's default GSI routing");
                pins.add((int) e[7]);
            }
            List<Integer> expected = new ArrayList<>();
            for (int pin = 0; pin < 24; pin++) if (pin != 2) expected.add(pin);
            assertEquals(expected, pins, "every pin but the cascade IRQ 2");
            assertArrayEquals(HexFormat.of().parseHex("0403000000 00ff00".replace(" ", "")), rest.get(rest.size() - 2),
                    "ExtINT to LINT0 of all local APICs");
            assertArrayEquals(HexFormat.of().parseHex("0401000000 00ff01".replace(" ", "")), rest.get(rest.size() - 1),
                    "NMI to LINT1 of all local APICs");
        }
    }

    @Test
    void rejectsImpossibleMachines() {
        try (GuestMemory memory = GuestMemory.allocate(1 << 20)) {
            assertThrows(IllegalArgumentException.class, () -> MpTable.write(memory, POINTER, TABLE, 0, LAPIC, 0, IOAPIC));
            assertThrows(IllegalArgumentException.class,
                    () -> MpTable.write(memory, POINTER, TABLE, MpTable.MAX_CPUS + 1, LAPIC, 0, IOAPIC));
            assertThrows(IllegalArgumentException.class, () -> MpTable.write(memory, POINTER + 4, TABLE, 1, LAPIC, 0, IOAPIC));
            assertThrows(GuestMemoryException.class, () -> MpTable.write(memory, POINTER, (1 << 20) - 100, 4, LAPIC, 0, IOAPIC));
        }
    }
}
