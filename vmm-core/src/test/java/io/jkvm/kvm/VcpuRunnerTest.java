package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.KVM_SYSTEM_EVENT_RESET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.bus.Bus;
import io.jkvm.bus.BusDevice;
import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.RawMemory;
import io.jkvm.kvm.sys.ThreadKick;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The run loop against a fake KVM_RUN that plays a script of exits and then, like a halted guest, blocks
 * until the kick signal arrives. The kick itself is real (pthread_kill of the loop's thread).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class VcpuRunnerTest {
    /** A vCPU whose KVM_RUN plays a script, then waits up to 10 s for the kick signal. */
    static final class ScriptedVcpu extends ExitDispatcherTest.FakeVcpu implements RunLoopVcpu {
        final KvmRunBuffer buffer = new KvmRunBuffer();
        final Queue<Consumer<KvmRunBuffer>> script = new ArrayDeque<>();
        private final ByteBuffer cells = ByteBuffer.allocateDirect(128 + 16).order(ByteOrder.LITTLE_ENDIAN);
        volatile long kvmMask = -1;
        volatile int kvmMaskLength;
        volatile boolean halted;
        volatile int clockPausedMarks;
        /** KVM_RUN calls made with immediate_exit set: they complete an exit in flight and return EINTR. */
        volatile int immediateExitRuns;

        ScriptedVcpu() {
            int sig = ThreadKick.SIGNAL;
            cells.put((sig - 1) / 8, (byte) (1 << (sig - 1) % 8));
            cells.putLong(128, 10); // timespec: 10 s
        }

        @Override public int id() { return 0; }
        @Override public KvmRun kvmRun() { return buffer.run; }

        @Override
        public void setSignalMask(long address) {
            kvmMaskLength = RawMemory.getInt(address + KvmStructs.SignalMask.LEN);
            kvmMask = RawMemory.getLong(address + KvmStructs.SignalMask.SIGSET);
        }

        @Override
        public boolean markClockPaused() {
            clockPausedMarks++;
            return true;
        }

        @Override
        public boolean run() {
            if (buffer.run.immediateExit()) {
                immediateExitRuns++;
                return false;
            }
            Consumer<KvmRunBuffer> next = script.poll();
            if (next != null) {
                next.accept(buffer);
                return true;
            }
            halted = true;
            long base = Native.address(cells);
            LibC.INSTANCE.sigtimedwait(base, 0, base + 128); // the kick, as KVM_RUN would see it
            halted = false;
            return false;
        }
    }

    private final ScriptedVcpu vcpu = new ScriptedVcpu();
    private final ExitDispatcherTest.Recorder serial = new ExitDispatcherTest.Recorder();
    private final Bus pio = new Bus("pio");
    private final Bus mmio = new Bus("mmio");

    VcpuRunnerTest() {
        pio.register(0x3f8, 8, serial);
    }

    private static Consumer<KvmRunBuffer> out(int port, char c) {
        return f -> {
            f.io(true, 1, port, 1);
            f.b.put(KvmRunBuffer.PIO_DATA, (byte) c);
        };
    }

    @Test
    void runsExitsUntilAFinalOne() throws Exception {
        vcpu.script.add(out(0x3f8, 'o'));
        vcpu.script.add(out(0x3f8, 'k'));
        vcpu.script.add(f -> f.systemEvent(KVM_SYSTEM_EVENT_RESET));
        VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, false, null);
        runner.start();
        assertInstanceOf(RunOutcome.Reset.class, runner.await());
        assertEquals(java.util.List.of("w1@0=6f", "w1@0=6b"), serial.log);
        assertEquals(2, runner.stats().count(ExitReason.IO));
        assertEquals(1, runner.stats().count(ExitReason.SYSTEM_EVENT));
        assertEquals(8, vcpu.kvmMaskLength, "KVM takes the kernel's 8-byte sigset");
        assertEquals(0, vcpu.kvmMask & 1L << ThreadKick.SIGNAL - 1, "kick signal deliverable inside KVM_RUN");
    }

    @Test
    void stopKicksAHaltedVcpuWithin100Ms() throws Exception {
        vcpu.script.add(out(0x3f8, 'x'));
        VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, false, null);
        runner.start();
        while (!vcpu.halted) Thread.sleep(1);
        Thread.sleep(50);
        long t0 = System.nanoTime();
        runner.stop();
        RunOutcome outcome = runner.await();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(RunOutcome.Stopped.class, outcome);
        assertTrue(ms < 100, "stop took " + ms + " ms");
        assertEquals(1, runner.stats().count(ExitReason.IO));
        assertEquals(1, runner.stats().count(ExitReason.INTR));
    }

    @Test
    void aPauseDuringAnExitCompletesItWithImmediateExitBeforeParking() throws Exception {
        VcpuRunner[] runner = new VcpuRunner[1];
        pio.register(0x80, 1, new BusDevice() {
            @Override public long read(long offset, int size) { return 0; }
            @Override public void write(long offset, int size, long value) { runner[0].pause(); }
        });
        vcpu.script.add(out(0x80, 'p'));
        runner[0] = new VcpuRunner(vcpu, pio, mmio, false, null);
        runner[0].start();
        assertTrue(runner[0].awaitParked(1000), "parked within 1 s");
        assertEquals(1, vcpu.immediateExitRuns, "one KVM_RUN with immediate_exit completed the OUT before parking");
        assertEquals(1, runner[0].stats().count(ExitReason.IO));
        runner[0].stop();
        assertInstanceOf(RunOutcome.Stopped.class, runner[0].await());
    }

    /** Starts a runner whose guest printed {@code c} and now idles halted; returns once it halts. */
    private VcpuRunner haltedAfter(char c) throws InterruptedException {
        vcpu.script.add(out(0x3f8, c));
        VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, false, null);
        runner.start();
        while (!vcpu.halted) Thread.sleep(1);
        return runner;
    }

    private static Thread vcpuThread() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("vcpu-0")).findFirst().orElseThrow();
    }

    @Test
    void pauseParksAHaltedVcpuWithoutCpuAndResumeGoesOn() throws Exception {
        VcpuRunner runner = haltedAfter('a');
        runner.pause();
        assertTrue(runner.awaitParked(1000), "parked within 1 s");
        vcpu.script.add(out(0x3f8, 'b')); // what the guest would do next, if it ran
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long id = vcpuThread().getId();
        long cpuBefore = threads.getThreadCpuTime(id);
        Thread.sleep(300);
        long cpuMillis = (threads.getThreadCpuTime(id) - cpuBefore) / 1_000_000;
        assertTrue(cpuMillis < 10, "a parked vCPU thread used " + cpuMillis + " ms of CPU in 300 ms");
        assertEquals(Thread.State.WAITING, vcpuThread().getState());
        assertEquals(java.util.List.of("w1@0=61"), serial.log, "nothing runs while paused");
        assertEquals(1, vcpu.clockPausedMarks, "the guest's kvmclock is told it was paused");

        runner.resume();
        while (!vcpu.halted || serial.log.size() < 2) Thread.sleep(1);
        assertEquals(java.util.List.of("w1@0=61", "w1@0=62"), serial.log);
        runner.stop();
        assertInstanceOf(RunOutcome.Stopped.class, runner.await());
    }

    @Test
    void pausingTwiceParksOnceAndResumingARunningLoopChangesNothing() throws Exception {
        VcpuRunner runner = haltedAfter('a');
        runner.resume(); // not paused: nothing happens
        assertTrue(vcpu.halted);
        runner.pause();
        runner.pause();
        assertTrue(runner.awaitParked(1000));
        assertEquals(1, vcpu.clockPausedMarks);
        runner.resume();
        runner.resume();
        while (!vcpu.halted) Thread.sleep(1);
        runner.stop();
        assertInstanceOf(RunOutcome.Stopped.class, runner.await());
        assertEquals(1, vcpu.clockPausedMarks);
    }

    @Test
    void stopEndsAPausedLoopWithin100Ms() throws Exception {
        VcpuRunner runner = haltedAfter('a');
        runner.pause();
        assertTrue(runner.awaitParked(1000));
        long t0 = System.nanoTime();
        runner.stop();
        assertInstanceOf(RunOutcome.Stopped.class, runner.await());
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 100, "stop took " + ms + " ms");
        assertTrue(runner.awaitParked(0), "an ended loop does not keep awaitParked waiting");
    }

    @Test
    void stopBeforeTheThreadRunsEndsAtOnce() throws Exception {
        vcpu.script.add(out(0x3f8, 'x'));
        VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, false, null);
        runner.stop();
        runner.start();
        assertInstanceOf(RunOutcome.Stopped.class, runner.await());
        assertTrue(serial.log.isEmpty());
    }

    @Test
    void aThrowingDeviceFailsTheRunWithADump() throws Exception {
        pio.register(0x80, 1, new BusDevice() {
            @Override public long read(long offset, int size) { return 0; }
            @Override public void write(long offset, int size, long value) { throw new IllegalStateException("boom"); }
        });
        vcpu.script.add(out(0x80, 'x'));
        VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, false, null);
        runner.start();
        RunOutcome.Failed failed = assertInstanceOf(RunOutcome.Failed.class, runner.await());
        assertTrue(failed.description().contains("boom"), failed.description());
        assertEquals("REGS", failed.registerDump());
    }
}
