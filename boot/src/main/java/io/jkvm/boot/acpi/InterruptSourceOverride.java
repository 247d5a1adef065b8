package io.jkvm.boot.acpi;

/**
 * An ISA IRQ that reaches the I/O APIC on another GSI, or with other signalling than ISA's edge/active-high
 * (MADT Interrupt Source Override, ACPI 6.4 §5.2.12.5).
 *
 * <p>Polarity and trigger are always written explicitly, never as "conforms to the bus": the FADT's SCI_INT
 * is 0 on a hardware-reduced platform, and Linux (arch/x86/kernel/acpi/boot.c, acpi_parse_int_src_ovr)
 * treats an override whose source equals SCI_INT as the SCI's, where "conforms" means level/active-low.
 */
public record InterruptSourceOverride(int isaIrq, int gsi, InterruptPolarity polarity, InterruptTrigger trigger) {
    public InterruptSourceOverride {
        if (isaIrq < 0 || isaIrq > 15) throw new IllegalArgumentException("ISA IRQ 0-15: " + isaIrq);
        if (gsi < 0) throw new IllegalArgumentException("negative GSI " + gsi);
    }

    /**
     * The PIT (ISA IRQ 0) on GSI 2, edge/active-high, as on PC chipsets and QEMU. Only correct when the
     * machine routes the in-kernel PIT's output to I/O APIC pin 2; KVM's default routing (KVM_CREATE_IRQCHIP
     * without KVM_SET_GSI_ROUTING) connects GSI 0 to pin 0, which needs no override. Moot for Linux on a
     * hardware-reduced platform anyway: acpi_generic_reduced_hw_init() skips the PIT timer set-up and
     * replaces the 8259s with a null PIC.
     */
    public static InterruptSourceOverride pitOnGsi2() {
        return new InterruptSourceOverride(0, 2, InterruptPolarity.ACTIVE_HIGH, InterruptTrigger.EDGE);
    }

    /** MPS INTI flags: polarity bits 1:0 (01 high, 11 low), trigger mode bits 3:2 (01 edge, 11 level). */
    int intiFlags() {
        int p = polarity == InterruptPolarity.ACTIVE_HIGH ? 0b01 : 0b11;
        int t = trigger == InterruptTrigger.EDGE ? 0b01 : 0b11;
        return t << 2 | p;
    }
}
