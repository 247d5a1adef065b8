package io.jkvm.boot.acpi;

import java.util.List;

/**
 * What the ACPI tables describe.
 *
 * <p>Note for the machine: the FADT is hardware-reduced, and on x86 Linux then skips the PIT timer set-up
 * and the 8259s (arch/x86/kernel/acpi/boot.c, acpi_generic_reduced_hw_init), so the guest's tick must come
 * from the local APIC timer: TSC-deadline mode or a known APIC/TSC frequency (CPUID, kvmclock).
 *
 * @param cpus vCPUs, 1-255; vCPU i has APIC ID i
 * @param virtioMmio virtio-mmio devices, in _UID order
 * @param powerDevicePort base I/O port of {@code io.jkvm.devices.acpi.AcpiPowerDevice} (3 ports)
 * @param interruptSourceOverrides MADT overrides; none for KVM's default GSI routing
 * @param pcatCompatible an 8259 pair is present (KVM_CREATE_IRQCHIP makes one); sets MADT PCAT_COMPAT
 * @param i8042 an 8042 keyboard controller at 0x60/0x64 (FADT IAPC_BOOT_ARCH "8042")
 * @param cmosRtc a CMOS RTC at 0x70/0x71; when false the FADT says "CMOS RTC Not Present"
 * @param pmProfile FADT Preferred_PM_Profile
 */
public record AcpiPlatform(int cpus, List<VirtioMmioWindow> virtioMmio, int powerDevicePort,
                           List<InterruptSourceOverride> interruptSourceOverrides, boolean pcatCompatible,
                           boolean i8042, boolean cmosRtc, PmProfile pmProfile) {
    public AcpiPlatform {
        virtioMmio = List.copyOf(virtioMmio);
        interruptSourceOverrides = List.copyOf(interruptSourceOverrides);
        if (powerDevicePort < 0 || powerDevicePort > 0xFFFF - 2)
            throw new IllegalArgumentException(String.format("bad power device port %#x", powerDevicePort));
    }

    /**
     * The usual jkvm machine: in-kernel irqchip with KVM's default routing (no overrides, 8259s present),
     * no 8042, no CMOS RTC, profile unspecified.
     */
    public static AcpiPlatform of(int cpus, List<VirtioMmioWindow> virtioMmio, int powerDevicePort) {
        return new AcpiPlatform(cpus, virtioMmio, powerDevicePort, List.of(), true, false, false, PmProfile.UNSPECIFIED);
    }
}
