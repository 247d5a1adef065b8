package io.jkvm.boot.mptable;

import io.jkvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The Intel MultiProcessor Specification 1.4 tables (chapter 4) of a jkvm machine: how a kernel without
 * ACPI (or booted with {@code acpi=off}) finds the vCPUs, the I/O APIC and which ISA IRQ arrives on
 * which I/O APIC pin. Firecracker and QEMU's microvm describe their machines the same way.
 *
 * <p>The 16-byte MP floating pointer goes where Linux scans for it (the last KiB below 640 KiB, §4:
 * "the first kilobyte of the Extended BIOS Data Area"); it points to the MP configuration table, which
 * may be anywhere and is placed separately because 255 processor entries do not fit in that KiB.
 *
 * <p>Interrupt routing follows KVM's default GSI routing (KVM_CREATE_IRQCHIP without
 * KVM_SET_GSI_ROUTING: GSI n is I/O APIC pin n, and GSIs 0–15 also reach the 8259s). Every pin but 2 is
 * announced as ISA IRQ n on pin n: IRQ 2 is the 8259 cascade, which Linux refuses to map. Linux numbers
 * the IRQs of pins 16–23 after their pin when ACPI is off (arch/x86/kernel/apic/io_apic.c,
 * alloc_irq_from_domain), so {@code virtio_mmio.device=…:16} works too.
 */
public final class MpTable {
    private MpTable() {}

    /** xAPIC IDs are 8 bits and 0xFF means "all"; the same limit as the MADT's. */
    public static final int MAX_CPUS = 255;
    /** KVM's in-kernel I/O APIC: 24 redirection entries (pins). */
    public static final int IO_APIC_PINS = 24;

    static final int FLOATING_POINTER_LENGTH = 16;
    static final int HEADER_LENGTH = 44;
    static final int PROCESSOR_ENTRY_LENGTH = 20;
    /** Bus, I/O APIC, I/O interrupt and local interrupt entries are 8 bytes each (§4.3.2–4.3.5). */
    static final int SHORT_ENTRY_LENGTH = 8;
    /** One bus, one I/O APIC, an I/O interrupt entry for every pin but the cascade, LINT0 and LINT1. */
    static final int SHORT_ENTRIES = 1 + 1 + (IO_APIC_PINS - 1) + 2;

    static final int SPEC_REVISION_1_4 = 4;
    static final int ENTRY_PROCESSOR = 0, ENTRY_BUS = 1, ENTRY_IO_APIC = 2, ENTRY_IO_INTERRUPT = 3,
            ENTRY_LOCAL_INTERRUPT = 4;
    /** Interrupt types of the interrupt assignment entries (§4.3.4, Table 4-11). */
    static final int INT = 0, NMI = 1, EXT_INT = 3;
    /** PO = EL = 00: polarity and trigger "conform to the specifications of the bus" (ISA: high, edge). */
    static final int CONFORMS_TO_BUS = 0;
    static final int CPU_ENABLED = 0b01, CPU_BOOT_PROCESSOR = 0b10;
    static final int IO_APIC_ENABLED = 1;
    /** LAPIC version register of KVM's local APIC (arch/x86/kvm/lapic.c APIC_VERSION): integrated APIC. */
    static final int LOCAL_APIC_VERSION = 0x14;
    /** Version register of KVM's I/O APIC (arch/x86/kvm/ioapic.h IOAPIC_VERSION_ID). */
    static final int IO_APIC_VERSION = 0x11;
    /**
     * CPU signature (CPUID.1:EAX family 6) and feature flags (CPUID.1:EDX FPU bit 0, APIC bit 9) of the
     * processor entries; informational only, Linux does not use them.
     */
    static final int CPU_SIGNATURE = 0x600, CPU_FEATURES = 1 << 9 | 1;
    static final int ISA_BUS_ID = 0;
    static final int PIC_CASCADE_IRQ = 2;
    static final int ALL_LOCAL_APICS = 0xFF;

    /**
     * Writes the floating pointer at {@code floatingPointer} and the configuration table at
     * {@code configTable}.
     *
     * @param cpus vCPUs, 1–255; vCPU i has local APIC ID i, vCPU 0 is the bootstrap processor
     * @param localApic base address of the local APICs
     * @param ioApicId the I/O APIC's ID, as its ID register reads (not one of the CPUs' IDs on real buses,
     *                 but Linux on x86-64 only needs it to match the register)
     * @param ioApic base address of the I/O APIC
     * @throws io.jkvm.memory.GuestMemoryException if either structure falls outside guest memory
     */
    public static void write(GuestMemory memory, long floatingPointer, long configTable, int cpus,
                             long localApic, int ioApicId, long ioApic) {
        if (cpus < 1 || cpus > MAX_CPUS) throw new IllegalArgumentException("1-" + MAX_CPUS + " CPUs, not " + cpus);
        if ((floatingPointer & 0xF) != 0) throw new IllegalArgumentException("floating pointer not 16-byte aligned");
        memory.write(configTable, configurationTable(cpus, localApic, ioApicId, ioApic));
        memory.write(floatingPointer, floatingPointer(configTable));
    }

    /** The number of bytes the configuration table of {@code cpus} vCPUs takes. */
    public static int configTableLength(int cpus) {
        return HEADER_LENGTH + cpus * PROCESSOR_ENTRY_LENGTH + SHORT_ENTRIES * SHORT_ENTRY_LENGTH;
    }

    /** §4.1, Table 4-1. */
    static byte[] floatingPointer(long configTable) {
        ByteBuffer b = littleEndian(FLOATING_POINTER_LENGTH);
        b.put(ascii("_MP_")).putInt((int) configTable)
                .put((byte) 1)                       // length in 16-byte paragraphs
                .put((byte) SPEC_REVISION_1_4)
                .put((byte) 0)                       // checksum, fixed below
                .put((byte) 0)                       // feature byte 1: 0 = a configuration table is present
                .put((byte) 0);                      // feature byte 2: IMCRP clear = virtual wire mode
        return withChecksum(b.array(), 10);
    }

    /** §4.2 header (Table 4-2), then the base table entries in the order §4.3 asks for. */
    static byte[] configurationTable(int cpus, long localApic, int ioApicId, long ioApic) {
        int length = configTableLength(cpus);
        int entries = cpus + SHORT_ENTRIES;
        ByteBuffer b = littleEndian(length);
        b.put(ascii("PCMP")).putShort((short) length).put((byte) SPEC_REVISION_1_4).put((byte) 0)
                .put(ascii("JKVM    ")).put(ascii("jkvm machine"))
                .putInt(0).putShort((short) 0)       // no OEM table
                .putShort((short) entries).putInt((int) localApic)
                .putShort((short) 0).put((byte) 0)   // no extended table
                .put((byte) 0);
        for (int cpu = 0; cpu < cpus; cpu++) {      // §4.3.1, Table 4-4
            int flags = CPU_ENABLED | (cpu == 0 ? CPU_BOOT_PROCESSOR : 0);
            b.put((byte) ENTRY_PROCESSOR).put((byte) cpu).put((byte) LOCAL_APIC_VERSION).put((byte) flags)
                    .putInt(CPU_SIGNATURE).putInt(CPU_FEATURES).putLong(0);
        }
        b.put((byte) ENTRY_BUS).put((byte) ISA_BUS_ID).put(ascii("ISA   "));                       // §4.3.2
        b.put((byte) ENTRY_IO_APIC).put((byte) ioApicId).put((byte) IO_APIC_VERSION).put((byte) IO_APIC_ENABLED)
                .putInt((int) ioApic);                                                           // §4.3.3
        for (int pin = 0; pin < IO_APIC_PINS; pin++) {                                           // §4.3.4
            if (pin == PIC_CASCADE_IRQ) continue;
            interruptEntry(b, ENTRY_IO_INTERRUPT, INT, pin, ioApicId, pin);
        }
        // §4.3.5 and §5.1 (virtual wire mode): the 8259s reach every local APIC's LINT0, NMI its LINT1.
        interruptEntry(b, ENTRY_LOCAL_INTERRUPT, EXT_INT, 0, ALL_LOCAL_APICS, 0);
        interruptEntry(b, ENTRY_LOCAL_INTERRUPT, NMI, 0, ALL_LOCAL_APICS, 1);
        return withChecksum(b.array(), 7);
    }

    private static void interruptEntry(ByteBuffer b, int entry, int type, int isaIrq, int destination, int input) {
        b.put((byte) entry).put((byte) type).putShort((short) CONFORMS_TO_BUS)
                .put((byte) ISA_BUS_ID).put((byte) isaIrq).put((byte) destination).put((byte) input);
    }

    /** §4.1/§4.2: all bytes of the structure, checksum included, add up to zero. */
    private static byte[] withChecksum(byte[] bytes, int checksumOffset) {
        int sum = 0;
        for (byte x : bytes) sum += x;
        bytes[checksumOffset] = (byte) -sum;
        return bytes;
    }

    private static ByteBuffer littleEndian(int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
