package io.jkvm.kvm.sys;

/**
 * Sizes and byte offsets of the KVM UAPI structs (linux/kvm.h, asm/kvm.h for x86-64), one nested class
 * per struct, named after it. Code reads and writes the fields at {@code base + OFFSET} in native memory
 * ({@link RawMemory}, direct buffers), so no Java object stands for a struct on any hot path.
 */
public final class KvmStructs {
    private KvmStructs() {}

    /** struct kvm_run: the vCPU's shared page, mmap'ed from the vCPU fd. */
    public static final class Run {
        private Run() {}
        public static final int REQUEST_INTERRUPT_WINDOW = 0;
        public static final int IMMEDIATE_EXIT = 1;
        public static final int EXIT_REASON = 8;
        public static final int READY_FOR_INTERRUPT_INJECTION = 12;
        public static final int IF_FLAG = 13;
        public static final int FLAGS = 14;
        public static final int CR8 = 16;
        public static final int APIC_BASE = 24;
        /** The exit union starts here; 256 bytes. */
        public static final int EXIT_UNION = 32;
        // KVM_EXIT_IO
        public static final int IO_DIRECTION = 32;
        public static final int IO_SIZE = 33;
        public static final int IO_PORT = 34;
        public static final int IO_COUNT = 36;
        public static final int IO_DATA_OFFSET = 40;
        // KVM_EXIT_MMIO
        public static final int MMIO_PHYS_ADDR = 32;
        public static final int MMIO_DATA = 40;
        public static final int MMIO_LEN = 48;
        public static final int MMIO_IS_WRITE = 52;
        // KVM_EXIT_FAIL_ENTRY
        public static final int FAIL_ENTRY_HARDWARE_REASON = 32;
        public static final int FAIL_ENTRY_CPU = 40;
        // KVM_EXIT_INTERNAL_ERROR (internal, and its emulation_failure overlay)
        public static final int INTERNAL_SUBERROR = 32;
        public static final int INTERNAL_NDATA = 36;
        public static final int INTERNAL_DATA = 40;
        public static final int INTERNAL_DATA_MAX = 16;
        public static final int EMULATION_FAILURE_FLAGS = 40;
        public static final int EMULATION_FAILURE_INSN_SIZE = 48;
        public static final int EMULATION_FAILURE_INSN_BYTES = 49;
        public static final int EMULATION_FAILURE_INSN_BYTES_MAX = 15;
        // KVM_EXIT_SYSTEM_EVENT
        public static final int SYSTEM_EVENT_TYPE = 32;
        public static final int SYSTEM_EVENT_NDATA = 36;
        public static final int SYSTEM_EVENT_DATA = 40;
        // after the union
        public static final int KVM_VALID_REGS = 288;
        public static final int KVM_DIRTY_REGS = 296;
        public static final int SYNC_REGS = 304;
        public static final int SIZE = 2352;

        // exit_reason values
        public static final int KVM_EXIT_IO_IN = 0, KVM_EXIT_IO_OUT = 1;
        public static final int KVM_INTERNAL_ERROR_EMULATION = 1;
        public static final long KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES = 0b1;
        public static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1, KVM_SYSTEM_EVENT_RESET = 2,
                KVM_SYSTEM_EVENT_CRASH = 3;
    }

    /** struct kvm_regs: 18 64-bit registers in this order. */
    public static final class Regs {
        private Regs() {}
        public static final int RAX = 0, RBX = 8, RCX = 16, RDX = 24, RSI = 32, RDI = 40, RSP = 48, RBP = 56;
        public static final int R8 = 64, R9 = 72, R10 = 80, R11 = 88, R12 = 96, R13 = 104, R14 = 112, R15 = 120;
        public static final int RIP = 128, RFLAGS = 136;
        public static final int SIZE = 144;
    }

    /** struct kvm_segment. */
    public static final class Segment {
        private Segment() {}
        public static final int BASE = 0, LIMIT = 8, SELECTOR = 12, TYPE = 14, PRESENT = 15, DPL = 16, DB = 17,
                S = 18, L = 19, G = 20, AVL = 21, UNUSABLE = 22;
        public static final int SIZE = 24;
    }

    /** struct kvm_dtable. */
    public static final class Dtable {
        private Dtable() {}
        public static final int BASE = 0, LIMIT = 8;
        public static final int SIZE = 16;
    }

    /** struct kvm_sregs: eight kvm_segments, two kvm_dtables, control registers, interrupt bitmap. */
    public static final class Sregs {
        private Sregs() {}
        public static final int CS = 0, DS = 24, ES = 48, FS = 72, GS = 96, SS = 120, TR = 144, LDT = 168;
        public static final int GDT = 192, IDT = 208;
        public static final int CR0 = 224, CR2 = 232, CR3 = 240, CR4 = 248, CR8 = 256, EFER = 264, APIC_BASE = 272;
        /** __u64 interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64], KVM_NR_INTERRUPTS = 256. */
        public static final int INTERRUPT_BITMAP = 280, INTERRUPT_BITMAP_WORDS = 4;
        public static final int SIZE = 312;
    }

    /** struct kvm_fpu. */
    public static final class Fpu {
        private Fpu() {}
        /** fpr[8][16]: x87 registers, 16 bytes each. */
        public static final int FPR = 0, FPR_BYTES = 128;
        public static final int FCW = 128, FSW = 130, FTWX = 132, LAST_OPCODE = 134, LAST_IP = 136, LAST_DP = 144;
        /** xmm[16][16]. */
        public static final int XMM = 152, XMM_BYTES = 256;
        public static final int MXCSR = 408;
        public static final int SIZE = 416;
    }

    /** struct kvm_msrs: a header followed by nmsrs kvm_msr_entry. */
    public static final class Msrs {
        private Msrs() {}
        public static final int NMSRS = 0, ENTRIES = 8;
        public static final int SIZE = 8;
    }

    /** struct kvm_msr_entry. */
    public static final class MsrEntry {
        private MsrEntry() {}
        public static final int INDEX = 0, DATA = 8;
        public static final int SIZE = 16;
    }

    /** struct kvm_msr_list: a header followed by nmsrs __u32 indices. */
    public static final class MsrList {
        private MsrList() {}
        public static final int NMSRS = 0, INDICES = 4;
        public static final int SIZE = 4;
    }

    /** struct kvm_cpuid2: a header followed by nent kvm_cpuid_entry2. */
    public static final class Cpuid2 {
        private Cpuid2() {}
        public static final int NENT = 0, ENTRIES = 8;
        public static final int SIZE = 8;
    }

    /** struct kvm_cpuid_entry2. */
    public static final class CpuidEntry2 {
        private CpuidEntry2() {}
        public static final int FUNCTION = 0, INDEX = 4, FLAGS = 8, EAX = 12, EBX = 16, ECX = 20, EDX = 24;
        public static final int SIZE = 40;
    }

    /** struct kvm_lapic_state: the local APIC's 4 KiB register page, first 1 KiB. */
    public static final class LapicState {
        private LapicState() {}
        public static final int SIZE = 1024;
    }

    /** struct kvm_userspace_memory_region. */
    public static final class UserspaceMemoryRegion {
        private UserspaceMemoryRegion() {}
        public static final int SLOT = 0, FLAGS = 4, GUEST_PHYS_ADDR = 8, MEMORY_SIZE = 16, USERSPACE_ADDR = 24;
        public static final int SIZE = 32;
    }

    /** struct kvm_irq_level. */
    public static final class IrqLevel {
        private IrqLevel() {}
        public static final int IRQ = 0, LEVEL = 4;
        public static final int SIZE = 8;
    }

    /** struct kvm_irqfd. */
    public static final class Irqfd {
        private Irqfd() {}
        public static final int FD = 0, GSI = 4, FLAGS = 8, RESAMPLEFD = 12;
        public static final int SIZE = 32;
    }

    /** struct kvm_ioeventfd. */
    public static final class Ioeventfd {
        private Ioeventfd() {}
        public static final int DATAMATCH = 0, ADDR = 8, LEN = 16, FD = 20, FLAGS = 24;
        public static final int SIZE = 64;
        public static final int FLAG_DATAMATCH = 0b001, FLAG_PIO = 0b010, FLAG_DEASSIGN = 0b100;
    }

    /** struct kvm_pit_config. */
    public static final class PitConfig {
        private PitConfig() {}
        public static final int FLAGS = 0;
        public static final int SIZE = 64;
        /** KVM_PIT_SPEAKER_DUMMY: port 0x61 is emulated by KVM as a dummy speaker. */
        public static final int SPEAKER_DUMMY = 1;
    }

    /** struct kvm_mp_state. */
    public static final class MpState {
        private MpState() {}
        public static final int MP_STATE = 0;
        public static final int SIZE = 4;
    }

    /** struct kvm_vcpu_events (x86). */
    public static final class VcpuEvents {
        private VcpuEvents() {}
        public static final int EXCEPTION_INJECTED = 0, EXCEPTION_NR = 1, EXCEPTION_HAS_ERROR_CODE = 2,
                EXCEPTION_PENDING = 3, EXCEPTION_ERROR_CODE = 4;
        public static final int INTERRUPT_INJECTED = 8, INTERRUPT_NR = 9, INTERRUPT_SOFT = 10, INTERRUPT_SHADOW = 11;
        public static final int NMI_INJECTED = 12, NMI_PENDING = 13, NMI_MASKED = 14;
        public static final int SIPI_VECTOR = 16, FLAGS = 20;
        public static final int SMI_SMM = 24, SMI_PENDING = 25, SMI_INSIDE_NMI = 26, SMI_LATCHED_INIT = 27;
        public static final int TRIPLE_FAULT_PENDING = 28;
        public static final int EXCEPTION_HAS_PAYLOAD = 55, EXCEPTION_PAYLOAD = 56;
        public static final int SIZE = 64;
    }

    /** struct kvm_signal_mask: a length followed by the kernel's sigset. */
    public static final class SignalMask {
        private SignalMask() {}
        public static final int LEN = 0, SIGSET = 4;
        public static final int SIZE = 4;
        /** The kernel's sigset_t on x86-64: 64 signals, 8 bytes (glibc's is 128 bytes). */
        public static final int KERNEL_SIGSET_BYTES = 8;
    }

    /** struct kvm_xsave: the vCPU's XSAVE area (Intel SDM Vol. 1 §13.4), __u32 region[1024]; larger with KVM_CAP_XSAVE2. */
    public static final class Xsave {
        private Xsave() {}
        public static final int SIZE = 4096;
    }

    /** struct kvm_xcrs: nr_xcrs, flags, 16 struct kvm_xcr {xcr, reserved, value}, 16 __u64 of padding. */
    public static final class Xcrs {
        private Xcrs() {}
        public static final int SIZE = 392;
    }

    /** struct kvm_debugregs: db[4], dr6, dr7, flags, reserved[9]. */
    public static final class Debugregs {
        private Debugregs() {}
        public static final int SIZE = 128;
    }

    /** struct kvm_irqchip: chip_id, pad, then a 512-byte union of struct kvm_pic_state / kvm_ioapic_state. */
    public static final class Irqchip {
        private Irqchip() {}
        public static final int CHIP_ID = 0, CHIP = 8;
        public static final int SIZE = 520;
        /** KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC (asm/kvm.h). */
        public static final int PIC_MASTER = 0, PIC_SLAVE = 1, IOAPIC = 2;
    }

    /** struct kvm_pit_state2: three struct kvm_pit_channel_state of 24 bytes, flags, reserved[9]. */
    public static final class PitState2 {
        private PitState2() {}
        public static final int SIZE = 112;
    }

    /** struct kvm_clock_data: kvmclock nanoseconds, flags, and (Linux 5.16+) CLOCK_REALTIME and host TSC. */
    public static final class ClockData {
        private ClockData() {}
        public static final int CLOCK = 0, FLAGS = 8, REALTIME = 16, HOST_TSC = 24;
        public static final int SIZE = 48;
    }

    /** struct kvm_device_attr: flags, group, attr, addr (the address of the value). */
    public static final class DeviceAttr {
        private DeviceAttr() {}
        public static final int FLAGS = 0, GROUP = 4, ATTR = 8, ADDR = 16;
        public static final int SIZE = 24;
        /** KVM_VCPU_TSC_CTRL group and its KVM_VCPU_TSC_OFFSET attribute (asm/kvm.h; api.rst "vcpu attributes"). */
        public static final int VCPU_TSC_CTRL = 0;
        public static final long VCPU_TSC_OFFSET = 0;
    }
}
