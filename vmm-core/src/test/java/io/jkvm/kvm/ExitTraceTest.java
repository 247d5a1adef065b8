package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.KVM_SYSTEM_EVENT_RESET;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jkvm.bus.Bus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lines of --trace-exits, one per handled exit, read from kvm_run after the dispatch. */
class ExitTraceTest {
    /** A device that names itself and its registers as the real ones do: a port device and an MMIO one. */
    static final class NamedRecorder extends ExitDispatcherTest.Recorder {
        private final String name;

        NamedRecorder(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String register(long offset, boolean write, long value) {
            return offset == 0x50 ? "QueueNotify q" + value : offset == 0 ? (write ? "THR" : "RBR") : "reg" + offset;
        }
    }

    private final List<String> lines = new ArrayList<>();
    private final Bus pio = new Bus("pio");
    private final Bus mmio = new Bus("mmio");
    private final ExitStats stats = new ExitStats();
    private final ExitDispatcher dispatcher;

    ExitTraceTest() {
        pio.register(0x3f8, 8, new NamedRecorder("uart"));
        pio.register(0x60, 1, new ExitDispatcherTest.Recorder()); // names nothing: class name and offset
        mmio.register(0xd000_0000L, 0x1000, new NamedRecorder("virtio-blk"));
        dispatcher = new ExitDispatcher(pio, mmio, new ExitDispatcherTest.FakeVcpu(), true, stats,
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
        assertEquals("vcpu1 IO out 0x3f8 ← 0x41 'A' → uart THR", trace(out));
        assertEquals("vcpu1 IO in 0x3fd → 0x5 ← uart reg5", trace(new KvmRunBuffer().io(false, 1, 0x3fd, 1)));
        assertEquals("vcpu1 IO in 0x60 → 0 ← Recorder +0x0", trace(new KvmRunBuffer().io(false, 1, 0x60, 1)));
        assertEquals("vcpu1 IO in 0x61 → 0xffff ← no device", trace(new KvmRunBuffer().io(false, 2, 0x61, 1)));
        assertEquals("vcpu1 IO out 0x3f8 ← 0 0 (2 × 1 bytes) → uart THR", trace(new KvmRunBuffer().io(true, 1, 0x3f8, 2)));
    }

    @Test
    void mmioAndOtherExits() {
        assertEquals("vcpu1 MMIO write 0xd0000050 ← 0 → virtio-blk@0xd0000000 QueueNotify q0",
                trace(new KvmRunBuffer().mmio(0xd000_0050L, 4, true, 0)));
        assertEquals("vcpu1 MMIO read 0xd0000000 → 0x400 ← virtio-blk@0xd0000000 RBR",
                trace(new KvmRunBuffer().mmio(0xd000_0000L, 4, false, 0)));
        assertEquals("vcpu1 MMIO read 0xd0000104 → 0x4 (1 byte) ← virtio-blk@0xd0000000 reg260",
                trace(new KvmRunBuffer().mmio(0xd000_0104L, 1, false, 0)));
        assertEquals("vcpu1 INTERNAL_ERROR emulation int3 → #BP injected", trace(new KvmRunBuffer().emulationFailure(0xcc)));
        assertEquals("vcpu1 SYSTEM_EVENT reset → the run ends: Reset", trace(new KvmRunBuffer().systemEvent(KVM_SYSTEM_EVENT_RESET)));
        assertEquals("vcpu1 HLT → the run ends: Halted", trace(new KvmRunBuffer().exit(ExitReason.HLT)));
    }

    @Test
    void exitsAreCountedPerDeviceByTheNamesOfTheTrace() {
        trace(new KvmRunBuffer().io(true, 1, 0x3f8, 1));
        trace(new KvmRunBuffer().io(false, 1, 0x3fd, 1));
        trace(new KvmRunBuffer().io(false, 1, 0x61, 1));
        trace(new KvmRunBuffer().mmio(0xd000_0050L, 4, true, 0));
        assertEquals(Map.of("uart", 2L, "no device", 1L, "virtio-blk@0xd0000000", 1L), stats.exitsPerDevice(pio, mmio));
    }
}
