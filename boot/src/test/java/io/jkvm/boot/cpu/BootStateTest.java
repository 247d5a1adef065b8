package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jkvm.kvm.Fpu;
import io.jkvm.kvm.LapicState;
import io.jkvm.kvm.MsrEntry;
import io.jkvm.kvm.Register;
import io.jkvm.kvm.Regs;
import java.util.Map;
import java.util.stream.Collectors;
import io.jkvm.boot.loader.EntryKind;
import org.junit.jupiter.api.Test;

/** The firmware-like parts of the Linux entry state: registers, FPU, MSRs, LAPIC. */
class BootStateTest {

    @Test
    void entryRegistersFollowThe64BitBootProtocol() {
        Regs r = BootCpu.entryRegs(EntryKind.LINUX_64, 0x100_0200L, 0x7000);
        assertEquals(0x100_0200L, r.get(Register.RIP));
        assertEquals(0x7000, r.get(Register.RSI));
        assertEquals(0b10, r.get(Register.RFLAGS), "IF clear, reserved bit 1 set");
        for (Register x : Register.values()) {
            if (x != Register.RIP && x != Register.RSI && x != Register.RFLAGS) assertEquals(0, r.get(x), x.name());
        }
    }

    @Test
    void fpuIsInFninitState() {
        Fpu f = BootFpu.state();
        assertEquals(0x37f, f.fcw());
        assertEquals(0x1f80, f.mxcsr());
        assertEquals(0, f.fsw());
    }

    @Test
    void msrsAreTheBootSet() {
        Map<Integer, Long> msrs = BootMsrs.entries().stream()
                .collect(Collectors.toMap(MsrEntry::index, MsrEntry::data)); // throws on a duplicate index
        assertEquals(0x806L, msrs.get(0x2ff), "MTRRs enabled, default write-back");
        assertEquals(1L, msrs.get(0x1a0), "fast strings");
        for (int zeroed : new int[] {0x174, 0x175, 0x176, 0xc000_0081, 0xc000_0082, 0xc000_0083, 0xc000_0084,
                0xc000_0102})
            assertEquals(0L, msrs.get(zeroed), Integer.toHexString(zeroed));
        assertEquals(10, msrs.size());
        assertFalse(msrs.containsKey(0x10a), "IA32_ARCH_CAPABILITIES must not be written on PVM");
        assertFalse(msrs.containsKey(0x10), "IA32_TSC is left to KVM, which keeps the vCPUs' TSCs in sync");
    }

    @Test
    void lapicWiresLint0ToExtIntAndLint1ToNmi() {
        LapicState s = new LapicState().register(0x350, 0x1_0000).register(0x360, 0x1_0000 | 0b111_0000_0000 | 0x22)
                .register(0x20, 0x0500_0000);
        Lapic.configureLocalInterrupts(s);
        assertEquals(0x1_0700, s.register(0x350), "ExtINT, still masked as KVM reset it");
        assertEquals(0x1_0422, s.register(0x360), "NMI, vector bits kept");
        assertEquals(0x0500_0000, s.register(0x20), "APIC ID untouched");
    }
}
