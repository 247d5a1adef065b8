package io.jkvm.boot;

import io.jkvm.boot.acpi.VirtioMmioWindow;
import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.loader.MemorySize;
import io.jkvm.kvm.Vm;
import io.jkvm.memory.GuestMemory;
import java.util.List;

/**
 * The guest-physical address map of a jkvm machine: every fixed address is defined here, once.
 *
 * <pre>
 * 0x0000_0000 ┬ real-mode IVT + BIOS data area (RAM, untouched)
 * 0x0000_0500 │ GDT (0x500), IDT (0x600) of the boot CPU
 * 0x0000_6000 │ PVH hvm_start_info + module list + memory map
 * 0x0000_7000 │ zero page (struct boot_params)
 * 0x0000_8ff0 │ boot stack top (grows down)
 * 0x0000_9000 │ identity-map page tables: PML4, PDPT, PDs
 * 0x0002_0000 │ kernel command line
 * 0x0009_fc00 ┼ EBDA: MP floating pointer ┐
 * 0x000a_0000 │ VGA window                │ not RAM in the e820 map (reserved), but backed by
 * 0x000c_0000 │ MP configuration table    │ guest memory so the MP/ACPI tables can live there
 * 0x000e_0000 │ RSDP, then ACPI tables    │
 * 0x0010_0000 ┼ kernel load address     ┘
 *             │ RAM ... initrd (placed high)
 * 0xc000_0000 ┼ 32-bit MMIO hole: virtio-mmio windows at 0xd000_0000, IOAPIC, LAPIC,
 *             │ KVM identity-map page + TSS just below 4 GiB
 * 0x1_0000_0000 RAM above 4 GiB (only when memory &gt; 3 GiB)
 * </pre>
 */
public final class Layout {
    private Layout() {}

    private static final long KIB = 1024, MIB = 1024 * KIB, GIB = 1024 * MIB;

    // ---- Low memory: boot structures written by the VMM (all inside the first 640 KiB of RAM) ----

    /**
     * Boot GDT: the Linux 64-bit protocol needs __BOOT_CS = 0x10 and __BOOT_DS = 0x18 (boot.rst), PVH a
     * flat 32-bit code/data pair and a TSS (16 bytes in long mode); room for 32 descriptors up to {@link #IDT}.
     */
    public static final long GDT = 0x500;
    /** Boot IDT (empty, limit 0): the kernel installs its own before enabling interrupts. */
    public static final long IDT = 0x600;
    /** PVH {@code struct hvm_start_info} (passed in EBX), followed by the module list and memory map. */
    public static final long PVH_START_INFO = 0x6000;
    /** Zero page, {@code struct boot_params} (passed in RSI), boot.rst "64-bit boot protocol"; one 4 KiB page. */
    public static final long ZERO_PAGE = 0x7000;
    /** Initial RSP of the boot CPU: top of the page below the PML4, 16-byte aligned. */
    public static final long BOOT_STACK_POINTER = 0x8ff0;
    /** Page-map level 4 of the boot identity map (CR3). */
    public static final long PML4 = 0x9000;
    /** The single page-directory-pointer table the PML4 points to. */
    public static final long PDPT = 0xa000;
    /** First of the page directories (2 MiB pages); consecutive pages up to {@link #PAGE_TABLES_END}. */
    public static final long PD = 0xb000;
    /** End (exclusive) of the page-table area: room for 5 PDs, i.e. an identity map of up to 5 GiB. */
    public static final long PAGE_TABLES_END = 0x10000;
    /** Kernel command line, NUL-terminated (boot.rst: anywhere from the end of the setup heap to 0xA0000). */
    public static final long CMDLINE = 0x20000;
    /** Room reserved for the command line including its NUL; the kernel's cmdline_size is usually smaller. */
    public static final long CMDLINE_MAX_SIZE = 0x10000;

    // ---- The legacy hole between 640 KiB and 1 MiB: backed by guest memory, reserved in the e820 map ----

    /** Extended BIOS data area: last KiB below 640 KiB; Linux scans its first KiB for the MP floating pointer. */
    public static final long EBDA_START = 0x9fc00;
    /** MP floating pointer (MP spec 1.4 §4: an OS searches the first KiB of the EBDA for it). */
    public static final long MP_FLOATING_POINTER = EBDA_START;
    /** VGA memory window [0xA0000, 0xC0000): never RAM. */
    public static final long VGA_START = 0xa0000;
    /** Start of the option/system ROM area [0xC0000, 0x100000): never RAM. */
    public static final long BIOS_ROM_START = 0xc0000;
    /**
     * MP configuration table (MP spec 1.4 §4.2), found through the floating pointer: 5.5 KiB for 255 vCPUs,
     * too big for the EBDA's KiB, so it sits in the ROM area below the RSDP.
     */
    public static final long MP_CONFIG_TABLE = BIOS_ROM_START;
    /** RSDP: 16-byte aligned in the 0xE0000–0xFFFFF range the OS scans (ACPI 6.4 §5.2.5.1). */
    public static final long ACPI_RSDP = 0xe0000;
    /** ACPI tables (XSDT, FADT, MADT, DSDT, ...) from here up to {@link #ACPI_TABLES_END}. */
    public static final long ACPI_TABLES_START = 0xe1000;
    /** End (exclusive) of the ACPI table area: 124 KiB. */
    public static final long ACPI_TABLES_END = 0x100000;

    // ---- RAM proper ----

    /** 1 MiB: bzImage protected-mode kernel load address (boot.rst code32_start default); start of "high" memory. */
    public static final long KERNEL_START = 0x100000;

    /**
     * Smallest memory jkvm accepts: 32 MiB. Everything below 1 MiB is fixed layout above, and an x86-64
     * kernel runs at LOAD_PHYSICAL_ADDR (CONFIG_PHYSICAL_START, 16 MiB by default, the pref_address of
     * stock and our kernels), so RAM below 16 MiB + a few MiB of kernel image boots nothing. The loader
     * checks the real need of each kernel (its init_size) on top of this.
     */
    public static final long MIN_MEMORY = 32 * MIB;

    // ---- The 32-bit MMIO hole [3 GiB, 4 GiB): no RAM here ----

    public static final long MMIO_HOLE_START = 3 * GIB;
    public static final long MMIO_HOLE_END = 4 * GIB;
    /** RAM beyond the first 3 GiB is mapped from here on. */
    public static final long HIGH_RAM_START = MMIO_HOLE_END;

    /** First virtio-mmio device window (virtio 1.2 §4.2.2 register block, 4 KiB each, consecutive). */
    public static final long VIRTIO_MMIO_BASE = 0xd000_0000L;
    /** Size of one virtio-mmio window. */
    public static final long VIRTIO_MMIO_WINDOW_SIZE = 0x1000;
    /**
     * The GSIs of virtio-mmio devices, in device order: the IOAPIC's 24 pins (GSI 0–23) minus the ones of
     * the PC devices (0 PIT, 1 keyboard, 2 cascade, 3/4 serial, 8 RTC, 12 PS/2 mouse).
     */
    private static final int[] VIRTIO_MMIO_GSIS = {5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
    /** How many virtio-mmio devices a machine can have: one per free GSI. */
    public static final int VIRTIO_MMIO_MAX_DEVICES = VIRTIO_MMIO_GSIS.length;

    /** IOAPIC registers (the default base of the KVM in-kernel IOAPIC, MP spec / ACPI MADT). */
    public static final long IOAPIC_BASE = 0xfec0_0000L;
    /** The ID register of KVM's in-kernel IOAPIC resets to 0; the MP table and MADT must say the same. */
    public static final int IOAPIC_ID = 0;
    /** Local APIC registers (architectural default IA32_APIC_BASE). */
    public static final long LAPIC_BASE = 0xfee0_0000L;
    /** KVM_SET_IDENTITY_MAP_ADDR: one page KVM uses for real-mode emulation on VT-x (api.rst). */
    public static final long KVM_IDENTITY_MAP = 0xfffb_c000L;
    /** KVM_SET_TSS_ADDR: three pages KVM needs on VT-x (api.rst), right after the identity-map page. */
    public static final long KVM_TSS = 0xfffb_d000L;

    // ---- Legacy I/O ----

    /** COM1 (16550) I/O ports 0x3F8–0x3FF. */
    public static final int COM1_PORT = 0x3f8;
    /** COM1 interrupt: ISA IRQ 4. */
    public static final int COM1_IRQ = 4;
    /** i8042 keyboard controller: data port 0x60, status/command port 0x64 (IBM PC/AT). */
    public static final int I8042_DATA_PORT = 0x60;
    public static final int I8042_COMMAND_PORT = 0x64;
    /** MC146818 CMOS RTC: index port 0x70, data port 0x71. */
    public static final int CMOS_RTC_PORT = 0x70;
    /** POST code port (BIOS progress codes; Linux also writes it as an I/O delay). */
    public static final int POST_CODE_PORT = 0x80;
    /**
     * jkvm's ACPI power device (hardware-reduced sleep control, sleep status and reset registers, 3
     * ports), named in the FADT. 0x600 is free on a PC (QEMU puts its ACPI PM block there too).
     */
    public static final int ACPI_POWER_PORT = 0x600;

    /** The window of virtio-mmio device {@code index} (0-based). */
    public static VirtioMmioWindow virtioMmio(int index) {
        if (index < 0 || index >= VIRTIO_MMIO_MAX_DEVICES)
            throw new BootConfigException("virtio-mmio device index " + index + " out of range (at most "
                    + VIRTIO_MMIO_MAX_DEVICES + " devices)");
        return new VirtioMmioWindow(VIRTIO_MMIO_BASE + index * VIRTIO_MMIO_WINDOW_SIZE, VIRTIO_MMIO_WINDOW_SIZE,
                VIRTIO_MMIO_GSIS[index]);
    }

    /**
     * The guest RAM ranges for {@code memory} bytes: [0, memory) if it fits below the MMIO hole, else
     * [0, 3 GiB) plus the rest from 4 GiB. The legacy hole below 1 MiB stays backed (tables live there);
     * the e820 map marks it reserved.
     *
     * @throws BootConfigException if memory is below {@link #MIN_MEMORY} or not a multiple of 4 KiB
     */
    public static List<GuestMemory.Range> ramRanges(long memory) {
        if (memory < MIN_MEMORY)
            throw new BootConfigException("memory size " + MemorySize.format(memory) + " is below the minimum of "
                    + MemorySize.format(MIN_MEMORY));
        if ((memory & 0xfff) != 0)
            throw new BootConfigException("memory size " + memory + " bytes is not a multiple of 4 KiB");
        if (memory <= MMIO_HOLE_START) return List.of(new GuestMemory.Range(0, memory));
        long high = memory - MMIO_HOLE_START;
        if (high > Vm.MAX_SLOT_BYTES || HIGH_RAM_START + high < HIGH_RAM_START)
            throw new BootConfigException("memory size " + MemorySize.format(memory) + " is more than a KVM memory slot"
                    + " holds above 4 GiB (" + MemorySize.format(Vm.MAX_SLOT_BYTES) + ")");
        return List.of(new GuestMemory.Range(0, MMIO_HOLE_START), new GuestMemory.Range(HIGH_RAM_START, high));
    }
}
