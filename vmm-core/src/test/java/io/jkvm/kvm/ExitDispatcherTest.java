package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.Bus;
import io.jkvm.bus.BusDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exit dispatch on a fake kvm_run: buses, final exits, the PVM emulation quirks, statistics. */
class ExitDispatcherTest {
    /** Records accesses; reads return offset + size * 0x100 so a test can tell them apart. */
    static class Recorder implements BusDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            log.add(String.format("r%d@%x", size, offset));
            return offset + size * 0x100L;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add(String.format("w%d@%x=%x", size, offset, value));
        }
    }

    /** A vCPU that records what exit handling did to it. */
    static class FakeVcpu implements VcpuControl {
        final List<String> log = new ArrayList<>();

        @Override
        public void skipInstruction(int length) {
            log.add("rip+=" + length);
        }

        @Override
        public void injectException(VcpuEvents.ExceptionEvent e) {
            log.add("inject " + e);
        }

        @Override
        public String registerDump() {
            return "REGS";
        }
    }

    private final Recorder serial = new Recorder();
    private final Recorder mmioDevice = new Recorder();
    private final Bus pio = new Bus("pio");
    private final Bus mmio = new Bus("mmio");
    private final FakeVcpu vcpu = new FakeVcpu();
    private final ExitStats stats = new ExitStats();
    private final KvmRunBuffer f = new KvmRunBuffer();

    ExitDispatcherTest() {
        pio.register(0x3f8, 8, serial);
        mmio.register(0xd000_0000L, 0x1000, mmioDevice);
    }

    private ExitDispatcher dispatcher(boolean quirks) {
        return new ExitDispatcher(pio, mmio, vcpu, quirks, stats);
    }

    @Test
    void outByteGoesToThePioDeviceAtItsOffset() {
        f.io(true, 1, 0x3f8, 1);
        f.b.put(KvmRunBuffer.PIO_DATA, (byte) 'A');
        assertTrue(dispatcher(false).dispatch(f.run));
        assertEquals(List.of("w1@0=41"), serial.log);
    }

    @Test
    void stringOutWritesEveryItem() {
        f.io(true, 1, 0x3f8, 3);
        f.b.put(KvmRunBuffer.PIO_DATA, (byte) 'h').put(KvmRunBuffer.PIO_DATA + 1, (byte) 'i').put(KvmRunBuffer.PIO_DATA + 2, (byte) '!');
        assertTrue(dispatcher(false).dispatch(f.run));
        assertEquals(List.of("w1@0=68", "w1@0=69", "w1@0=21"), serial.log);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void stringInFillsEveryItemOfItsSize(int size) {
        f.io(false, size, 0x3fd, 2);
        assertTrue(dispatcher(false).dispatch(f.run));
        assertEquals(List.of("r" + size + "@5", "r" + size + "@5"), serial.log);
        long expected = (5 + size * 0x100L) & (1L << 8 * size) - 1; // only size bytes reach the guest
        assertEquals(expected, f.run.ioData(0));
        assertEquals(expected, f.run.ioData(1));
    }

    @Test
    void unclaimedPortReadsAllOnes() {
        f.io(false, 2, 0x60, 1);
        assertTrue(dispatcher(false).dispatch(f.run));
        assertEquals(0xffff, f.run.ioData(0));
    }

    @Test
    void badIoSizeStopsTheVm() {
        f.io(true, 3, 0x3f8, 1);
        ExitDispatcher d = dispatcher(false);
        assertFalse(d.dispatch(f.run));
        RunOutcome.Failed failed = assertInstanceOf(RunOutcome.Failed.class, d.outcome());
        assertTrue(failed.description().contains("size 3"), failed.description());
        assertEquals("REGS", failed.registerDump());
        assertTrue(serial.log.isEmpty());
    }

    @Test
    void mmioWriteAndRead() {
        f.mmio(0xd000_0010L, 4, true, 0xcafef00dL);
        ExitDispatcher d = dispatcher(false);
        assertTrue(d.dispatch(f.run));
        f.mmio(0xd000_0020L, 8, false, 0);
        assertTrue(d.dispatch(f.run));
        assertEquals(List.of("w4@10=cafef00d", "r8@20"), mmioDevice.log);
        assertEquals(0x20 + 8 * 0x100L, f.b.getLong(MMIO_DATA));
    }

    @Test
    void finalExits() {
        assertOutcome(f.exit(ExitReason.HLT), RunOutcome.Halted.class);
        assertOutcome(f.exit(ExitReason.SHUTDOWN), RunOutcome.Shutdown.class);
        assertOutcome(f.systemEvent(KVM_SYSTEM_EVENT_SHUTDOWN), RunOutcome.Poweroff.class);
        assertOutcome(f.systemEvent(KVM_SYSTEM_EVENT_RESET), RunOutcome.Reset.class);
        assertOutcome(f.systemEvent(KVM_SYSTEM_EVENT_CRASH), RunOutcome.Crash.class);
        assertOutcome(f.systemEvent(77), RunOutcome.Failed.class);
    }

    @Test
    void interruptedRunContinues() {
        assertTrue(dispatcher(false).dispatch(f.exit(ExitReason.INTR).run));
    }

    @Test
    void failEntryNamesTheHardwareReason() {
        f.exit(ExitReason.FAIL_ENTRY);
        f.b.putLong(FAIL_ENTRY_HARDWARE_REASON, 0x21);
        RunOutcome.Failed failed = assertOutcome(f, RunOutcome.Failed.class);
        assertTrue(failed.description().contains("0x21"), failed.description());
    }

    @Test
    void unexpectedExitsStop() {
        f.b.putInt(EXIT_REASON, 13); // KVM_EXIT_S390_SIEIC
        RunOutcome.Failed failed = assertOutcome(f, RunOutcome.Failed.class);
        assertTrue(failed.description().contains("exit_reason 13"), failed.description());
        assertOutcome(f.exit(ExitReason.X86_RDMSR), RunOutcome.Failed.class);
    }

    @Test
    void int3IsDeliveredAsBreakpointOnPvm() {
        f.emulationFailure(0xcc, 0x90, 0x90);
        assertTrue(dispatcher(true).dispatch(f.run));
        assertEquals(List.of("rip+=1", "inject " + VcpuEvents.ExceptionEvent.inject(3)), vcpu.log);
    }

    @Test
    void fwaitIsSkippedOnPvm() {
        f.emulationFailure(0x9b, 0xdd, 0x7d, 0xf0);
        assertTrue(dispatcher(true).dispatch(f.run));
        assertEquals(List.of("rip+=1"), vcpu.log);
    }

    @Test
    void otherEmulationFailuresStopNamingTheBytes() {
        f.emulationFailure(0x0f, 0xc7, 0x0e);
        RunOutcome.Failed failed = assertOutcome(f, RunOutcome.Failed.class, true);
        assertTrue(failed.description().contains("instruction bytes 0f c7 0e"), failed.description());
        assertTrue(vcpu.log.isEmpty());
    }

    @Test
    void withoutQuirksInt3IsAFailure() {
        f.emulationFailure(0xcc);
        RunOutcome.Failed failed = assertOutcome(f, RunOutcome.Failed.class);
        assertTrue(failed.description().contains("instruction bytes cc"), failed.description());
        assertTrue(vcpu.log.isEmpty());
    }

    @Test
    void otherInternalErrorsStopWithTheirData() {
        f.exit(ExitReason.INTERNAL_ERROR);
        f.b.putInt(INTERNAL_SUBERROR, 3).putInt(INTERNAL_NDATA, 1).putLong(INTERNAL_DATA, 0x80000b0eL);
        RunOutcome.Failed failed = assertOutcome(f, RunOutcome.Failed.class, true);
        assertTrue(failed.description().contains("suberror 3"), failed.description());
        assertTrue(failed.description().contains("0x80000b0e"), failed.description());
    }

    @Test
    void countsExitsPerPortAndMmioAddress() {
        ExitDispatcher d = dispatcher(false);
        for (int i = 0; i < 3; i++) d.dispatch(f.io(true, 1, 0x3f8, 1).run);
        d.dispatch(f.io(false, 1, 0x3fd, 1).run);
        d.dispatch(f.mmio(0xd000_0050L, 4, false, 0).run);
        assertEquals(Map.of(0x3f8L, 3L, 0x3fdL, 1L), stats.portCounts());
        assertEquals(Map.of(0xd000_0050L, 1L), stats.mmioCounts());
    }

    private <T extends RunOutcome> T assertOutcome(KvmRunBuffer buffer, Class<T> type) {
        return assertOutcome(buffer, type, false);
    }

    private <T extends RunOutcome> T assertOutcome(KvmRunBuffer buffer, Class<T> type, boolean quirks) {
        ExitDispatcher d = dispatcher(quirks);
        assertFalse(d.dispatch(buffer.run), "final exit");
        return assertInstanceOf(type, d.outcome());
    }
}
