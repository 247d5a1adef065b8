package io.jkvm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Sizes and offsets against the kernel UAPI (linux/kvm.h, asm/kvm.h of Linux 6.1, x86-64), as
 * sizeof/offsetof report them for the C structs.
 */
class KvmStructsTest {
    @Test
    void kvmRun() {
        assertEquals(2352, KvmStructs.Run.SIZE);
        assertEquals(0, KvmStructs.Run.REQUEST_INTERRUPT_WINDOW);
        assertEquals(1, KvmStructs.Run.IMMEDIATE_EXIT);
        assertEquals(8, KvmStructs.Run.EXIT_REASON);
        assertEquals(12, KvmStructs.Run.READY_FOR_INTERRUPT_INJECTION);
        assertEquals(13, KvmStructs.Run.IF_FLAG);
        assertEquals(14, KvmStructs.Run.FLAGS);
        assertEquals(16, KvmStructs.Run.CR8);
        assertEquals(24, KvmStructs.Run.APIC_BASE);
        assertEquals(32, KvmStructs.Run.EXIT_UNION);
        assertEquals(32, KvmStructs.Run.IO_DIRECTION);
        assertEquals(33, KvmStructs.Run.IO_SIZE);
        assertEquals(34, KvmStructs.Run.IO_PORT);
        assertEquals(36, KvmStructs.Run.IO_COUNT);
        assertEquals(40, KvmStructs.Run.IO_DATA_OFFSET);
        assertEquals(32, KvmStructs.Run.MMIO_PHYS_ADDR);
        assertEquals(40, KvmStructs.Run.MMIO_DATA);
        assertEquals(48, KvmStructs.Run.MMIO_LEN);
        assertEquals(52, KvmStructs.Run.MMIO_IS_WRITE);
        assertEquals(32, KvmStructs.Run.FAIL_ENTRY_HARDWARE_REASON);
        assertEquals(40, KvmStructs.Run.FAIL_ENTRY_CPU);
        assertEquals(32, KvmStructs.Run.INTERNAL_SUBERROR);
        assertEquals(36, KvmStructs.Run.INTERNAL_NDATA);
        assertEquals(40, KvmStructs.Run.INTERNAL_DATA);
        assertEquals(16, KvmStructs.Run.INTERNAL_DATA_MAX);
        assertEquals(40, KvmStructs.Run.EMULATION_FAILURE_FLAGS);
        assertEquals(48, KvmStructs.Run.EMULATION_FAILURE_INSN_SIZE);
        assertEquals(49, KvmStructs.Run.EMULATION_FAILURE_INSN_BYTES);
        assertEquals(15, KvmStructs.Run.EMULATION_FAILURE_INSN_BYTES_MAX);
        assertEquals(32, KvmStructs.Run.SYSTEM_EVENT_TYPE);
        assertEquals(36, KvmStructs.Run.SYSTEM_EVENT_NDATA);
        assertEquals(40, KvmStructs.Run.SYSTEM_EVENT_DATA);
        assertEquals(288, KvmStructs.Run.KVM_VALID_REGS);
        assertEquals(296, KvmStructs.Run.KVM_DIRTY_REGS);
        assertEquals(304, KvmStructs.Run.SYNC_REGS);
    }

    @Test
    void kvmRunConstants() {
        assertEquals(0, KvmStructs.Run.KVM_EXIT_IO_IN);
        assertEquals(1, KvmStructs.Run.KVM_EXIT_IO_OUT);
        assertEquals(1, KvmStructs.Run.KVM_INTERNAL_ERROR_EMULATION);
        assertEquals(1L, KvmStructs.Run.KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES);
        assertEquals(1, KvmStructs.Run.KVM_SYSTEM_EVENT_SHUTDOWN);
        assertEquals(2, KvmStructs.Run.KVM_SYSTEM_EVENT_RESET);
        assertEquals(3, KvmStructs.Run.KVM_SYSTEM_EVENT_CRASH);
    }

    @Test
    void kvmRegs() {
        assertEquals(144, KvmStructs.Regs.SIZE);
        int[] inOrder = {KvmStructs.Regs.RAX, KvmStructs.Regs.RBX, KvmStructs.Regs.RCX, KvmStructs.Regs.RDX,
                KvmStructs.Regs.RSI, KvmStructs.Regs.RDI, KvmStructs.Regs.RSP, KvmStructs.Regs.RBP,
                KvmStructs.Regs.R8, KvmStructs.Regs.R9, KvmStructs.Regs.R10, KvmStructs.Regs.R11,
                KvmStructs.Regs.R12, KvmStructs.Regs.R13, KvmStructs.Regs.R14, KvmStructs.Regs.R15,
                KvmStructs.Regs.RIP, KvmStructs.Regs.RFLAGS};
        for (int i = 0; i < inOrder.length; i++) assertEquals(8 * i, inOrder[i]);
        assertEquals(64, KvmStructs.Regs.R8);
        assertEquals(128, KvmStructs.Regs.RIP);
        assertEquals(136, KvmStructs.Regs.RFLAGS);
    }

    @Test
    void kvmSegmentAndDtable() {
        assertEquals(24, KvmStructs.Segment.SIZE);
        assertEquals(0, KvmStructs.Segment.BASE);
        assertEquals(8, KvmStructs.Segment.LIMIT);
        assertEquals(12, KvmStructs.Segment.SELECTOR);
        assertEquals(14, KvmStructs.Segment.TYPE);
        assertEquals(15, KvmStructs.Segment.PRESENT);
        assertEquals(16, KvmStructs.Segment.DPL);
        assertEquals(17, KvmStructs.Segment.DB);
        assertEquals(18, KvmStructs.Segment.S);
        assertEquals(19, KvmStructs.Segment.L);
        assertEquals(20, KvmStructs.Segment.G);
        assertEquals(21, KvmStructs.Segment.AVL);
        assertEquals(22, KvmStructs.Segment.UNUSABLE);
        assertEquals(16, KvmStructs.Dtable.SIZE);
        assertEquals(0, KvmStructs.Dtable.BASE);
        assertEquals(8, KvmStructs.Dtable.LIMIT);
    }

    @Test
    void kvmSregs() {
        assertEquals(312, KvmStructs.Sregs.SIZE);
        assertEquals(0, KvmStructs.Sregs.CS);
        assertEquals(24, KvmStructs.Sregs.DS);
        assertEquals(48, KvmStructs.Sregs.ES);
        assertEquals(72, KvmStructs.Sregs.FS);
        assertEquals(96, KvmStructs.Sregs.GS);
        assertEquals(120, KvmStructs.Sregs.SS);
        assertEquals(144, KvmStructs.Sregs.TR);
        assertEquals(168, KvmStructs.Sregs.LDT);
        assertEquals(192, KvmStructs.Sregs.GDT);
        assertEquals(208, KvmStructs.Sregs.IDT);
        assertEquals(224, KvmStructs.Sregs.CR0);
        assertEquals(232, KvmStructs.Sregs.CR2);
        assertEquals(240, KvmStructs.Sregs.CR3);
        assertEquals(248, KvmStructs.Sregs.CR4);
        assertEquals(256, KvmStructs.Sregs.CR8);
        assertEquals(264, KvmStructs.Sregs.EFER);
        assertEquals(272, KvmStructs.Sregs.APIC_BASE);
        assertEquals(280, KvmStructs.Sregs.INTERRUPT_BITMAP);
        assertEquals(4, KvmStructs.Sregs.INTERRUPT_BITMAP_WORDS);
    }

    @Test
    void kvmFpu() {
        assertEquals(416, KvmStructs.Fpu.SIZE);
        assertEquals(0, KvmStructs.Fpu.FPR);
        assertEquals(128, KvmStructs.Fpu.FPR_BYTES);
        assertEquals(128, KvmStructs.Fpu.FCW);
        assertEquals(130, KvmStructs.Fpu.FSW);
        assertEquals(132, KvmStructs.Fpu.FTWX);
        assertEquals(134, KvmStructs.Fpu.LAST_OPCODE);
        assertEquals(136, KvmStructs.Fpu.LAST_IP);
        assertEquals(144, KvmStructs.Fpu.LAST_DP);
        assertEquals(152, KvmStructs.Fpu.XMM);
        assertEquals(256, KvmStructs.Fpu.XMM_BYTES);
        assertEquals(408, KvmStructs.Fpu.MXCSR);
    }

    @Test
    void kvmMsrsAndCpuid() {
        assertEquals(8, KvmStructs.Msrs.SIZE);
        assertEquals(0, KvmStructs.Msrs.NMSRS);
        assertEquals(8, KvmStructs.Msrs.ENTRIES);
        assertEquals(16, KvmStructs.MsrEntry.SIZE);
        assertEquals(0, KvmStructs.MsrEntry.INDEX);
        assertEquals(8, KvmStructs.MsrEntry.DATA);
        assertEquals(4, KvmStructs.MsrList.SIZE);
        assertEquals(4, KvmStructs.MsrList.INDICES);
        assertEquals(8, KvmStructs.Cpuid2.SIZE);
        assertEquals(0, KvmStructs.Cpuid2.NENT);
        assertEquals(8, KvmStructs.Cpuid2.ENTRIES);
        assertEquals(40, KvmStructs.CpuidEntry2.SIZE);
        assertEquals(0, KvmStructs.CpuidEntry2.FUNCTION);
        assertEquals(4, KvmStructs.CpuidEntry2.INDEX);
        assertEquals(8, KvmStructs.CpuidEntry2.FLAGS);
        assertEquals(12, KvmStructs.CpuidEntry2.EAX);
        assertEquals(16, KvmStructs.CpuidEntry2.EBX);
        assertEquals(20, KvmStructs.CpuidEntry2.ECX);
        assertEquals(24, KvmStructs.CpuidEntry2.EDX);
    }

    @Test
    void vmStructs() {
        assertEquals(1024, KvmStructs.LapicState.SIZE);
        assertEquals(32, KvmStructs.UserspaceMemoryRegion.SIZE);
        assertEquals(0, KvmStructs.UserspaceMemoryRegion.SLOT);
        assertEquals(4, KvmStructs.UserspaceMemoryRegion.FLAGS);
        assertEquals(8, KvmStructs.UserspaceMemoryRegion.GUEST_PHYS_ADDR);
        assertEquals(16, KvmStructs.UserspaceMemoryRegion.MEMORY_SIZE);
        assertEquals(24, KvmStructs.UserspaceMemoryRegion.USERSPACE_ADDR);
        assertEquals(8, KvmStructs.IrqLevel.SIZE);
        assertEquals(0, KvmStructs.IrqLevel.IRQ);
        assertEquals(4, KvmStructs.IrqLevel.LEVEL);
        assertEquals(32, KvmStructs.Irqfd.SIZE);
        assertEquals(0, KvmStructs.Irqfd.FD);
        assertEquals(4, KvmStructs.Irqfd.GSI);
        assertEquals(8, KvmStructs.Irqfd.FLAGS);
        assertEquals(12, KvmStructs.Irqfd.RESAMPLEFD);
        assertEquals(64, KvmStructs.Ioeventfd.SIZE);
        assertEquals(0, KvmStructs.Ioeventfd.DATAMATCH);
        assertEquals(8, KvmStructs.Ioeventfd.ADDR);
        assertEquals(16, KvmStructs.Ioeventfd.LEN);
        assertEquals(20, KvmStructs.Ioeventfd.FD);
        assertEquals(24, KvmStructs.Ioeventfd.FLAGS);
        assertEquals(1, KvmStructs.Ioeventfd.FLAG_DATAMATCH);
        assertEquals(2, KvmStructs.Ioeventfd.FLAG_PIO);
        assertEquals(4, KvmStructs.Ioeventfd.FLAG_DEASSIGN);
        assertEquals(64, KvmStructs.PitConfig.SIZE);
        assertEquals(0, KvmStructs.PitConfig.FLAGS);
        assertEquals(1, KvmStructs.PitConfig.SPEAKER_DUMMY);
        assertEquals(4, KvmStructs.MpState.SIZE);
        assertEquals(4, KvmStructs.SignalMask.SIZE);
        assertEquals(0, KvmStructs.SignalMask.LEN);
        assertEquals(4, KvmStructs.SignalMask.SIGSET);
        assertEquals(8, KvmStructs.SignalMask.KERNEL_SIGSET_BYTES);
    }

    @Test
    void kvmVcpuEvents() {
        assertEquals(64, KvmStructs.VcpuEvents.SIZE);
        assertEquals(0, KvmStructs.VcpuEvents.EXCEPTION_INJECTED);
        assertEquals(1, KvmStructs.VcpuEvents.EXCEPTION_NR);
        assertEquals(2, KvmStructs.VcpuEvents.EXCEPTION_HAS_ERROR_CODE);
        assertEquals(3, KvmStructs.VcpuEvents.EXCEPTION_PENDING);
        assertEquals(4, KvmStructs.VcpuEvents.EXCEPTION_ERROR_CODE);
        assertEquals(8, KvmStructs.VcpuEvents.INTERRUPT_INJECTED);
        assertEquals(9, KvmStructs.VcpuEvents.INTERRUPT_NR);
        assertEquals(10, KvmStructs.VcpuEvents.INTERRUPT_SOFT);
        assertEquals(11, KvmStructs.VcpuEvents.INTERRUPT_SHADOW);
        assertEquals(12, KvmStructs.VcpuEvents.NMI_INJECTED);
        assertEquals(13, KvmStructs.VcpuEvents.NMI_PENDING);
        assertEquals(14, KvmStructs.VcpuEvents.NMI_MASKED);
        assertEquals(16, KvmStructs.VcpuEvents.SIPI_VECTOR);
        assertEquals(20, KvmStructs.VcpuEvents.FLAGS);
        assertEquals(24, KvmStructs.VcpuEvents.SMI_SMM);
        assertEquals(25, KvmStructs.VcpuEvents.SMI_PENDING);
        assertEquals(26, KvmStructs.VcpuEvents.SMI_INSIDE_NMI);
        assertEquals(27, KvmStructs.VcpuEvents.SMI_LATCHED_INIT);
        assertEquals(28, KvmStructs.VcpuEvents.TRIPLE_FAULT_PENDING);
        assertEquals(55, KvmStructs.VcpuEvents.EXCEPTION_HAS_PAYLOAD);
        assertEquals(56, KvmStructs.VcpuEvents.EXCEPTION_PAYLOAD);
    }
}
