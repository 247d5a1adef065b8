package io.jkvm.boot.acpi;

import io.jkvm.boot.Layout;
import java.util.List;

/**
 * Multiple APIC Description Table (ACPI 6.4 §5.2.12): local APIC address and flags, then one Processor
 * Local APIC per vCPU (APIC ID = ACPI Processor UID = vCPU index, enabled), one I/O APIC, the interrupt
 * source overrides, and a Local APIC NMI on LINT1 for all processors.
 */
record Madt(int cpus, List<InterruptSourceOverride> overrides, boolean pcatCompatible) {
    static final String SIGNATURE = "APIC";
    static final int REVISION = 5;
    /** xAPIC IDs are 8 bits and 0xFF means "all"; more CPUs would need x2APIC entries. */
    static final int MAX_CPUS = 255;

    static final int PCAT_COMPAT = 1;
    static final int TYPE_LOCAL_APIC = 0;
    static final int TYPE_IO_APIC = 1;
    static final int TYPE_INTERRUPT_SOURCE_OVERRIDE = 2;
    static final int TYPE_LOCAL_APIC_NMI = 4;
    static final int LOCAL_APIC_ENABLED = 1;
    static final int ALL_PROCESSORS = 0xFF;

    Madt {
        if (cpus < 1 || cpus > MAX_CPUS) throw new IllegalArgumentException("1-" + MAX_CPUS + " CPUs, not " + cpus);
        overrides = List.copyOf(overrides);
    }

    byte[] toBytes() {
        ByteWriter b = new ByteWriter();
        b.u32(Layout.LAPIC_BASE).u32(pcatCompatible ? PCAT_COMPAT : 0);
        for (int cpu = 0; cpu < cpus; cpu++) {
            // §5.2.12.2: type, length 8, ACPI Processor UID, APIC ID, flags (bit 0 Enabled).
            b.u8(TYPE_LOCAL_APIC).u8(8).u8(cpu).u8(cpu).u32(LOCAL_APIC_ENABLED);
        }
        // §5.2.12.3: type, length 12, I/O APIC ID, reserved, address, Global System Interrupt Base 0.
        b.u8(TYPE_IO_APIC).u8(12).u8(Layout.IOAPIC_ID).u8(0).u32(Layout.IOAPIC_BASE).u32(0);
        for (InterruptSourceOverride o : overrides) {
            // §5.2.12.5: type, length 10, bus 0 (ISA), source IRQ, GSI, MPS INTI flags.
            b.u8(TYPE_INTERRUPT_SOURCE_OVERRIDE).u8(10).u8(0).u8(o.isaIrq()).u32(o.gsi()).u16(o.intiFlags());
        }
        // §5.2.12.7: type, length 6, ACPI Processor UID 0xFF (all), flags 0 (conforms), LINT# 1.
        b.u8(TYPE_LOCAL_APIC_NMI).u8(6).u8(ALL_PROCESSORS).u16(0).u8(1);
        return SystemDescriptionTable.build(SIGNATURE, REVISION, "JKVMAPIC", b.toByteArray());
    }
}
