package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.KVM_SYSTEM_EVENT_RESET;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jkvm.bus.Bus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lines of --trace-exits, one per handled exit, read from kvm_run after the dispatch. */
class ExitTraceTest {
    private final List<String> lines = new ArrayList<>();
    private final Bus pio = new Bus("pio");
    private final Bus mmio = new Bus("mmio");
    private final ExitDispatcher dispatcher;

    ExitTraceTest() {
        pio.register(0x3f8, 8, new ExitDispatcherTest.Recorder());
        mmio.register(0xd000_0000L, 0x1000, new ExitDispatcherTest.Recorder());
        dispatcher = new ExitDispatcher(pio, mmio, new ExitDispatcherTest.FakeVcpu(), true, new ExitStats(),
                new ExitTrace(lines::add, 1));
    }

    private String trace(KvmRunBuffer exit) {
        dispatcher.dispatch(exit.run);
        return lines.get(lines.size() - 1);
    }

    @Test
    void portIoSaysWhatWentWhere() {
        KvmRunBuffer out = new KvmRunBuffer().io(true, 1, 0x3f8, 1);
        out.b.put(KvmRunBuffer.PIO_DATA, (byte) 'A');
        assertEquals("vcpu1 IO out 0x3f8 ← 0x41 'A' → Recorder@0x3f8 +0x0", trace(out));
        assertEquals("vcpu1 IO in 0x3fd → 0x5 ← Recorder@0x3f8 +0x5", trace(new KvmRunBuffer().io(false, 1, 0x3fd, 1)));
        assertEquals("vcpu1 IO in 0x61 → 0xffff ← no device", trace(new KvmRunBuffer().io(false, 2, 0x61, 1)));
        assertEquals("vcpu1 IO out 0x3f8 ← 0x0 0x0 (2 × 1 bytes) → Recorder@0x3f8 +0x0", trace(new KvmRunBuffer().io(true, 1, 0x3f8, 2)));
    }

    @Test
    void mmioAndOtherExits() {
        assertEquals("vcpu1 MMIO write 0xd0000050 ← 0x0 (4 bytes) → Recorder@0xd0000000 +0x50",
                trace(new KvmRunBuffer().mmio(0xd000_0050L, 4, true, 0)));
        assertEquals("vcpu1 MMIO read 0xd0000000 → 0x400 (4 bytes) ← Recorder@0xd0000000 +0x0",
                trace(new KvmRunBuffer().mmio(0xd000_0000L, 4, false, 0)));
        assertEquals("vcpu1 INTERNAL_ERROR emulation failure at int3 → #BP injected", trace(new KvmRunBuffer().emulationFailure(0xcc)));
        assertEquals("vcpu1 SYSTEM_EVENT reset → the run ends: Reset", trace(new KvmRunBuffer().systemEvent(KVM_SYSTEM_EVENT_RESET)));
        assertEquals("vcpu1 HLT → the run ends: Halted", trace(new KvmRunBuffer().exit(ExitReason.HLT)));
    }
}
