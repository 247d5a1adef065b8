package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.kvm.CpuidEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuidPatcherTest {
    private static final CpuidEntry LEAF0 = new CpuidEntry(0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);
    private static final CpuidEntry LEAF7 = new CpuidEntry(7, 0, 1, 0, 0x12345, 0, 0);
    /** Leaf 1 with CX16 and SSE3 in ECX and a stale APIC id 0x33 plus CLFLUSH size 8 in EBX. */
    private static final CpuidEntry LEAF1 = new CpuidEntry(1, 0, 0, 0x806f8, 0x3301_0800, 0x2000 | 0b1, 0x178bfbff);
    private static final List<CpuidEntry> SUPPORTED = List.of(LEAF0, LEAF1, LEAF7,
            new CpuidEntry(0xb, 0, 1, 1, 1, 0x100, 0x77),
            new CpuidEntry(0xb, 1, 1, 4, 2, 0x201, 0x77),
            new CpuidEntry(0x1f, 0, 1, 1, 1, 0x100, 0x77),
            new CpuidEntry(0x4000_0000, 0, 0, 0x4000_0001, 1, 2, 3),
            new CpuidEntry(0x4000_0001, 0, 0, 0x01ff_ffff, 0, 0, 0));

    private static CpuidEntry find(List<CpuidEntry> entries, int function, int index) {
        return entries.stream().filter(e -> e.function() == function && e.index() == index).findFirst()
                .orElseThrow(() -> new AssertionError(String.format("no leaf %#x.%d", function, index)));
    }

    @Test
    void writesTheApicIdHypervisorAndTscDeadlineBits() {
        List<CpuidEntry> out = new CpuidPatcher(SUPPORTED, false).forVcpu(5);
        CpuidEntry leaf1 = find(out, 1, 0);
        assertEquals(0x0501_0800, leaf1.ebx(), "APIC id in EBX[31:24], the rest kept");
        assertEquals(CpuidPatcher.ECX_HYPERVISOR | CpuidPatcher.ECX_TSC_DEADLINE | 0x2000 | 0b1, leaf1.ecx(),
                "CX16 kept off PVM, TSC-deadline announced");
        assertEquals(LEAF1.edx(), leaf1.edx());
        for (int[] leaf : new int[][] {{0xb, 0}, {0xb, 1}, {0x1f, 0}}) {
            CpuidEntry e = find(out, leaf[0], leaf[1]);
            assertEquals(5, e.edx(), "x2APIC id");
        }
        assertEquals(0x201, find(out, 0xb, 1).ecx(), "topology levels kept");
    }

    @Test
    void tellsAmdFromIntelByTheVendorString() {
        ByteBuffer amd = ByteBuffer.wrap("AuthenticAMD".getBytes(StandardCharsets.US_ASCII)).order(ByteOrder.LITTLE_ENDIAN);
        CpuidEntry amdLeaf0 = new CpuidEntry(0, 0, 0, 0x10, amd.getInt(0), amd.getInt(8), amd.getInt(4));
        assertTrue(new CpuidPatcher(List.of(amdLeaf0, LEAF1), false).isAmd());
        assertFalse(new CpuidPatcher(SUPPORTED, false).isAmd(), "GenuineIntel");
    }

    @Test
    void hidesCx16OnPvm() {
        CpuidEntry leaf1 = find(new CpuidPatcher(SUPPORTED, true).forVcpu(0), 1, 0);
        assertEquals(0, leaf1.ecx() & CpuidPatcher.ECX_CX16);
        assertEquals(0b1, leaf1.ecx() & 0b1, "other features kept");
    }

    @Test
    void advertisesKvmWithKvmclockButNoHypercallFeatures() {
        List<CpuidEntry> out = new CpuidPatcher(SUPPORTED, false).forVcpu(0);
        CpuidEntry sig = find(out, 0x4000_0000, 0);
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(sig.ebx()).putInt(sig.ecx())
                .putInt(sig.edx());
        assertEquals("KVMKVMKVM\0\0\0", new String(b.array(), StandardCharsets.US_ASCII));
        assertEquals(0x4000_0001, sig.eax(), "highest hypervisor leaf");
        int features = find(out, 0x4000_0001, 0).eax();
        assertEquals(0, features & (CpuidPatcher.KVM_FEATURE_PV_SEND_IPI | CpuidPatcher.KVM_FEATURE_PV_SCHED_YIELD
                | CpuidPatcher.KVM_FEATURE_POLL_CONTROL | CpuidPatcher.KVM_FEATURE_PV_UNHALT
                | CpuidPatcher.KVM_FEATURE_HC_MAP_GPA_RANGE));
        assertEquals(CpuidPatcher.KVMCLOCK, features & CpuidPatcher.KVMCLOCK);
        assertEquals(1 << 24, features & (1 << 24), "other supported features (clocksource stable) kept");
        assertEquals(1, out.stream().filter(e -> e.function() == 0x4000_0000).count());
        assertEquals(1, out.stream().filter(e -> e.function() == 0x4000_0001).count());
    }

    @Test
    void addsKvmLeavesWhenMissingAndPassesOthersThrough() {
        List<CpuidEntry> out = new CpuidPatcher(List.of(LEAF0, LEAF7), false).forVcpu(1);
        assertEquals(4, out.size());
        assertTrue(out.contains(LEAF0) && out.contains(LEAF7));
        assertEquals(CpuidPatcher.KVMCLOCK, find(out, 0x4000_0001, 0).eax());
    }

    @Test
    void rejectsApicIdsLeafOneCannotHold() {
        CpuidPatcher p = new CpuidPatcher(SUPPORTED, false);
        assertThrows(IllegalArgumentException.class, () -> p.forVcpu(256));
        assertThrows(IllegalArgumentException.class, () -> p.forVcpu(-1));
    }
}
