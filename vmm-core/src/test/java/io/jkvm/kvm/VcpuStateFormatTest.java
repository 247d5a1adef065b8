package io.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stored form of a vCPU state and of a VM state, read back and checked without KVM: hostile files. */
class VcpuStateFormatTest {

    private static VcpuState.Saved sample() {
        return new VcpuState.Saved(MpState.HALTED.value(), filled(KvmStructs.Regs.SIZE, 1), filled(KvmStructs.Sregs.SIZE, 2),
                true, filled(KvmStructs.Xsave.SIZE, 3), filled(KvmStructs.Xcrs.SIZE, 4), filled(KvmStructs.Debugregs.SIZE, 5),
                filled(KvmStructs.LapicState.SIZE, 6), List.of(new MsrEntry(0x10, 123456789L), new MsrEntry(0xc0000080, 0x500)),
                filled(KvmStructs.VcpuEvents.SIZE, 7), List.of(new CpuidEntry(0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65)),
                2_000_000, 987654321L, true, -42L);
    }

    private static byte[] filled(int size, int value) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] bytes(VcpuState.Saved s) {
        StateWriter out = new StateWriter();
        s.write(out);
        return out.toByteArray();
    }

    @Test
    void readsBackWhatWasWritten() {
        VcpuState.Saved s = sample();
        StateReader in = new StateReader(bytes(s));
        VcpuState.Saved r = VcpuState.Saved.read(in);
        assertTrue(in.atEnd());
        assertEquals(s.mpState(), r.mpState());
        assertArrayEquals(s.regs(), r.regs());
        assertArrayEquals(s.sregs(), r.sregs());
        assertArrayEquals(s.fpu(), r.fpu());
        assertArrayEquals(s.xcrs(), r.xcrs());
        assertArrayEquals(s.lapic(), r.lapic());
        assertArrayEquals(s.events(), r.events());
        assertEquals(s.msrs(), r.msrs());
        assertEquals(s.cpuid(), r.cpuid());
        assertEquals(List.of(s.tscKhz(), s.tsc(), s.hasTscOffset(), s.tscOffset()),
                List.of(r.tscKhz(), r.tsc(), r.hasTscOffset(), r.tscOffset()));
    }

    @Test
    void everyTruncationIsAFormatError() {
        byte[] whole = bytes(sample());
        for (int n = 0; n < whole.length; n++) {
            byte[] cut = Arrays.copyOf(whole, n);
            assertThrows(SnapshotFormatException.class, () -> VcpuState.Saved.read(new StateReader(cut)), "cut at " + n);
        }
    }

    /** Overwrites the u32 at {@code at} in the stored sample and expects a format error. */
    private static void corrupt(int at, int value, String what) {
        byte[] b = bytes(sample());
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> VcpuState.Saved.read(new StateReader(b)));
        assertTrue(e.getMessage().contains(what), e.getMessage());
    }

    @Test
    void badValuesAreFormatErrorsNamingThem() {
        corrupt(0, 99, "MP state");
        int regsLength = 4;
        corrupt(regsLength, KvmStructs.Regs.SIZE - 1, "REGS");
        int xsaveLength = 4 + 4 + KvmStructs.Regs.SIZE + 4 + KvmStructs.Sregs.SIZE + 1;
        corrupt(xsaveLength, 16, "XSAVE");
        int msrCount = xsaveLength + 4 + KvmStructs.Xsave.SIZE + 1 + 4 + KvmStructs.Xcrs.SIZE + 4 + KvmStructs.Debugregs.SIZE
                + 4 + KvmStructs.LapicState.SIZE;
        corrupt(msrCount, 0x7fff_ffff, "MSR count");
        int cpuidCount = msrCount + 4 + 2 * 12 + 4 + KvmStructs.VcpuEvents.SIZE;
        corrupt(cpuidCount, 0, "CPUID entry count");
        corrupt(cpuidCount + 4 + 28, 0, "TSC frequency");
    }

    @Test
    void aBooleanOtherThanZeroOrOneIsAFormatError() {
        byte[] b = bytes(sample());
        b[4 + 4 + KvmStructs.Regs.SIZE + 4 + KvmStructs.Sregs.SIZE] = 2; // the "XSAVE area follows" flag
        assertThrows(SnapshotFormatException.class, () -> VcpuState.Saved.read(new StateReader(b)));
    }

    @Test
    void anIrqchipStateOfAnotherChipIsAFormatError() {
        StateWriter out = new StateWriter();
        for (int chip : new int[] {KvmStructs.Irqchip.PIC_MASTER, KvmStructs.Irqchip.IOAPIC, KvmStructs.Irqchip.PIC_SLAVE}) {
            byte[] state = new byte[KvmStructs.Irqchip.SIZE];
            state[KvmStructs.Irqchip.CHIP_ID] = (byte) chip;
            out.bytes(state);
        }
        out.bytes(new byte[KvmStructs.PitState2.SIZE]).u64(1);
        // Checked before the VM is touched: no VM needed.
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                () -> new VmState(null).restoreState(new StateReader(out.toByteArray())));
        assertTrue(e.getMessage().contains("PIC slave"), e.getMessage());
    }
}
