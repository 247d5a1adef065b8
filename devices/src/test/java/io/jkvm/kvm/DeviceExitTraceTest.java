package io.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.Bus;
import io.jkvm.devices.legacy.CmosRtc;
import io.jkvm.devices.legacy.Uart16550;
import io.jkvm.devices.virtio.MmioTransport;
import io.jkvm.devices.virtio.rng.VirtioRng;
import io.jkvm.memory.GuestMemory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * --trace-exits with the real devices behind the buses, as the machine places them: the lines README shows.
 * In package io.jkvm.kvm for the package-private dispatcher and vmm-core's hand-filled kvm_run.
 */
class DeviceExitTraceTest {
    private final List<String> lines = new ArrayList<>();
    private final GuestMemory memory = GuestMemory.allocate(1 << 20);
    private final MmioTransport rng = new MmioTransport(new VirtioRng(), memory, asserted -> { });
    private final ExitDispatcher dispatcher;

    DeviceExitTraceTest() {
        Bus pio = new Bus("pio");
        Bus mmio = new Bus("mmio");
        pio.register(0x3f8, Uart16550.PORT_COUNT, new Uart16550(asserted -> { }, b -> { }));
        pio.register(0x70, CmosRtc.PORT_COUNT, new CmosRtc(Clock.systemUTC()));
        mmio.register(0xd000_0000L, MmioTransport.WINDOW_SIZE, rng);
        dispatcher = new ExitDispatcher(pio, mmio, new ExitDispatcherTest.FakeVcpu(), true, new ExitStats(),
                new ExitTrace(lines::add, 0));
    }

    @AfterEach
    void close() {
        rng.close();
        memory.close();
    }

    private String trace(KvmRunBuffer exit) {
        dispatcher.dispatch(exit.run);
        return lines.get(lines.size() - 1);
    }

    private static KvmRunBuffer out(int port, int value) {
        KvmRunBuffer exit = new KvmRunBuffer().io(true, 1, port, 1);
        exit.b.put(KvmRunBuffer.PIO_DATA, (byte) value);
        return exit;
    }

    @Test
    void portDevicesNameTheirRegisters() {
        assertEquals("vcpu0 IO out 0x3f8 ← 0x41 'A' → uart THR", trace(out(0x3f8, 'A')));
        assertEquals("vcpu0 IO in 0x3fd → 0x60 '`' ← uart LSR", trace(new KvmRunBuffer().io(false, 1, 0x3fd, 1)));
        assertEquals("vcpu0 IO out 0x3fb ← 0x80 → uart LCR", trace(out(0x3fb, 0x80)));
        assertEquals("vcpu0 IO out 0x3f8 ← 0x1 → uart DLL", trace(out(0x3f8, 1)), "DLAB set: the divisor latch");
        assertEquals("vcpu0 IO out 0x70 ← 0xa → rtc index", trace(out(0x70, 0x0a)));
        String registerA = trace(new KvmRunBuffer().io(false, 1, 0x71, 1)); // UIP (bit 7) is set near a second's edge
        assertTrue(registerA.matches("vcpu0 IO in 0x71 → 0x(26 '&'|a6) ← rtc register A"), registerA);
    }

    @Test
    void virtioMmioRegistersWithTheirQueue() {
        assertEquals("vcpu0 MMIO read 0xd0000000 → 0x74726976 ← virtio-rng@0xd0000000 MagicValue",
                trace(new KvmRunBuffer().mmio(0xd000_0000L, 4, false, 0)));
        assertEquals("vcpu0 MMIO write 0xd0000038 ← 0x40 → virtio-rng@0xd0000000 QueueNum q0",
                trace(new KvmRunBuffer().mmio(0xd000_0038L, 4, true, 0x40)));
        assertEquals("vcpu0 MMIO write 0xd0000050 ← 0 → virtio-rng@0xd0000000 QueueNotify q0",
                trace(new KvmRunBuffer().mmio(0xd000_0050L, 4, true, 0)));
    }
}
