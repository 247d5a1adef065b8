package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.kvm.ControlRegister;
import io.jkvm.kvm.CpuidEntry;
import io.jkvm.kvm.Kvm;
import io.jkvm.kvm.LapicState;
import io.jkvm.kvm.MsrEntry;
import io.jkvm.kvm.Register;
import io.jkvm.kvm.Regs;
import io.jkvm.kvm.SegmentRegister;
import io.jkvm.kvm.Sregs;
import io.jkvm.kvm.Vcpu;
import io.jkvm.kvm.Vm;
import io.jkvm.memory.GuestMemory;
import io.jkvm.testing.KvmTests;
import java.util.List;
import io.jkvm.boot.loader.EntryKind;
import org.junit.jupiter.api.Test;

/** KVM accepts the Linux entry state and reports it back as set (no guest runs). */
class BootCpuKvmTest {

    @Test
    void kvmTakesTheLinuxEntryState() {
        KvmTests.assumeKvm();
        try (Kvm kvm = Kvm.open(); GuestMemory memory = GuestMemory.allocate(0x200000)) {
            Vm vm = kvm.createVm();
            vm.mapMemory(memory);
            vm.createIrqchip();
            Vcpu vcpu = vm.createVcpu(1);
            BootCpu boot = new BootCpu(kvm.supportedCpuid(), Kvm.isPvm());
            boot.writeTables(memory, EntryKind.LINUX_64);
            boot.applyBootProcessor(vcpu, EntryKind.LINUX_64, 0x100_0200L, 0x7000);

            Regs regs = vcpu.getRegs();
            assertEquals(0x100_0200L, regs.get(Register.RIP));
            assertEquals(0x7000, regs.get(Register.RSI));
            assertEquals(0, regs.get(Register.RFLAGS) & 0x200, "IF clear");

            Sregs sregs = vcpu.getSregs();
            assertEquals(ModeSetup.EFER_LME | ModeSetup.EFER_LMA,
                    sregs.get(ControlRegister.EFER) & (ModeSetup.EFER_LME | ModeSetup.EFER_LMA));
            assertEquals(io.jkvm.boot.Layout.PML4, sregs.get(ControlRegister.CR3));
            assertTrue(sregs.segment(SegmentRegister.CS).l());
            assertEquals(Gdt.CODE_SELECTOR, sregs.segment(SegmentRegister.CS).selector());

            List<MsrEntry> msrs = vcpu.getMsrs(BootMsrs.IA32_MTRR_DEF_TYPE, BootMsrs.IA32_MISC_ENABLE,
                    BootMsrs.IA32_LSTAR);
            assertEquals(BootMsrs.MTRR_DEF_TYPE_ENABLED_WB, msrs.get(0).data());
            assertEquals(BootMsrs.MISC_ENABLE_FAST_STRING, msrs.get(1).data() & BootMsrs.MISC_ENABLE_FAST_STRING);
            assertEquals(0, msrs.get(2).data());

            LapicState lapic = vcpu.getLapic();
            assertEquals(Lapic.DELIVERY_MODE_EXTINT, lapic.register(Lapic.LVT_LINT0) >>> 8 & 0b111);
            assertEquals(Lapic.DELIVERY_MODE_NMI, lapic.register(Lapic.LVT_LINT1) >>> 8 & 0b111);

            // On AMD, HWCR.TscFreqSel is set, or KVM refused it and BootCpu said so.
            if (new CpuidPatcher(kvm.supportedCpuid(), false).isAmd() && !boot.tscFreqSelRefused()) {
                long hwcr = vcpu.getMsrs(BootCpu.MSR_K7_HWCR).get(0).data();
                assertEquals(BootCpu.HWCR_TSC_FREQ_SEL, hwcr & BootCpu.HWCR_TSC_FREQ_SEL, "HWCR.TscFreqSel");
            }

            List<CpuidEntry> cpuid = vcpu.getCpuid2();
            CpuidEntry leaf1 = cpuid.stream().filter(e -> e.function() == 1).findFirst().orElseThrow();
            assertEquals(1, leaf1.ebx() >>> 24, "APIC id of vCPU 1");
            assertEquals(CpuidPatcher.ECX_HYPERVISOR, leaf1.ecx() & CpuidPatcher.ECX_HYPERVISOR);
        }
    }
}
