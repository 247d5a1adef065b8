package io.jkvm.boot.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.boot.cpu.CpuidPatcher;
import io.jkvm.boot.cpu.Gdt;
import io.jkvm.boot.cpu.LongModeSetup;
import io.jkvm.boot.cpu.ModeSetup;
import io.jkvm.boot.cpu.PageTables;
import io.jkvm.boot.cpu.ProtectedModeSetup;
import io.jkvm.boot.cpu.RealModeSetup;
import io.jkvm.bus.Bus;
import io.jkvm.guests.CpuMode;
import io.jkvm.guests.Ending;
import io.jkvm.guests.GuestSpec;
import io.jkvm.guests.MemoryCheck;
import io.jkvm.guests.TestGuest;
import io.jkvm.kvm.Kvm;
import io.jkvm.kvm.Register;
import io.jkvm.kvm.Regs;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.kvm.Vcpu;
import io.jkvm.kvm.VcpuRunner;
import io.jkvm.kvm.Vm;
import io.jkvm.memory.GuestMemory;
import io.jkvm.testing.KvmTests;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every test guest of the guests module under KVM (one parameterized test over their .expect files):
 * load it, put the vCPU into its declared mode, run it with the VMM's run loop and check what it declared.
 * Any exit other than the declared end, any access no device expects, fails the guest.
 */
class TestGuestsTest {
    /** Guest-physical layout for the runner's tables, below every guest's load address. */
    private static final long GDT_ADDRESS = 0x500;
    private static final long PAGE_TABLES = 0x9000;
    private static final int MAPPED_GIBIBYTES = 1;
    /** Three pages KVM (VT-x without unrestricted guest) may use for real mode; outside guest RAM. */
    private static final long TSS_ADDRESS = 0xfffb_d000L;
    /** How many exits a looping guest must make, each the declared one. */
    private static final int LOOP_EXITS = 1000;
    /** A guest that neither halts nor exits is stopped, and fails, after this long. */
    private static final long TIMEOUT_SECONDS = 60;

    static Stream<TestGuest> guests() {
        return TestGuest.all().stream();
    }

    private static ModeSetup modeSetup(CpuMode mode) {
        return switch (mode) {
            case REAL -> new RealModeSetup(0);
            case PROTECTED32 -> new ProtectedModeSetup(GDT_ADDRESS);
            case LONG64 -> new LongModeSetup(GDT_ADDRESS, new PageTables(PAGE_TABLES, MAPPED_GIBIBYTES));
        };
    }

    /** Pure check: the runner's tables lie inside each guest's RAM and do not overlap its image. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("guests")
    void guestFitsTheRunnersLayout(TestGuest guest) {
        GuestSpec s = guest.spec();
        long imageEnd = s.loadAddress() + guest.image().length;
        List<long[]> tables = switch (s.mode()) {
            case REAL -> List.of();
            case PROTECTED32 -> List.<long[]>of(new long[] {GDT_ADDRESS, GDT_ADDRESS + Gdt.SIZE});
            case LONG64 -> List.of(new long[] {GDT_ADDRESS, GDT_ADDRESS + Gdt.SIZE},
                    new long[] {PAGE_TABLES, PAGE_TABLES + new PageTables(PAGE_TABLES, MAPPED_GIBIBYTES).size()});
        };
        for (long[] t : tables) {
            assertTrue(t[1] <= s.memorySize(), guest.name() + ": runner tables beyond RAM");
            assertTrue(imageEnd <= t[0] || s.loadAddress() >= t[1],
                    String.format("%s overlaps the runner's table at [%#x, %#x)", guest.name(), t[0], t[1]));
        }
    }

    /** Pure check: every register an .expect file can name is one KVM_GET_REGS returns. */
    @Test
    void everyExpectableRegisterIsAKvmRegister() {
        for (io.jkvm.guests.Register r : io.jkvm.guests.Register.values())
            assertEquals(r.name(), Register.valueOf(r.name()).name());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("guests")
    void guestProducesItsDeclaredResult(TestGuest guest) throws InterruptedException {
        KvmTests.assumeKvm();
        GuestSpec spec = guest.spec();
        try (Kvm kvm = Kvm.open(); GuestMemory memory = GuestMemory.allocate(spec.memorySize())) {
            Vm vm = kvm.createVm();
            vm.setTssAddress(TSS_ADDRESS);
            vm.mapMemory(memory);
            memory.write(spec.loadAddress(), guest.image());
            ModeSetup mode = modeSetup(spec.mode());
            mode.writeTables(memory);

            Vcpu vcpu = vm.createVcpu(0);
            // CS base is 0 in every mode here (RealModeSetup(0), flat segments): RIP is the entry address.
            mode.enter(vcpu, new CpuidPatcher(kvm.supportedCpuid(), Kvm.isPvm()).forVcpu(0),
                    ModeSetup.startRegs(spec.entry()));

            Bus pio = new Bus("pio");
            Bus mmio = new Bus("mmio");
            SerialSink serial = new SerialSink();
            pio.register(SerialSink.COM1, SerialSink.PORTS, serial);
            TestRegisterDevice device = new TestRegisterDevice();
            spec.testDevice().ifPresent(base -> mmio.register(base, TestRegisterDevice.SIZE, device));
            LoopProbe probe = null;
            if (spec.ending() instanceof Ending.Loop loop) {
                probe = new LoopProbe(loop, LOOP_EXITS);
                (loop.exit() == Ending.ExitKind.PIO ? pio : mmio).register(loop.address(), loop.size(), probe);
            }
            VcpuRunner runner = new VcpuRunner(vcpu, pio, mmio, Kvm.isPvm());
            if (probe != null) probe.stopping(runner);

            RunOutcome outcome = runWithTimeout(runner);

            List<String> problems = new ArrayList<>();
            problems.addAll(serial.unexpected());
            problems.addAll(device.unexpected());
            if (probe != null) problems.addAll(probe.unexpected());
            if (pio.unclaimedReads() + pio.unclaimedWrites() + mmio.unclaimedReads() + mmio.unclaimedWrites() != 0)
                problems.add(String.format("accesses nothing claims: pio %d reads %d writes, mmio %d reads %d writes",
                        pio.unclaimedReads(), pio.unclaimedWrites(), mmio.unclaimedReads(), mmio.unclaimedWrites()));
            assertEquals(List.of(), problems, guest.name() + ": unexpected accesses; serial so far: " + serial.text());

            if (spec.ending() instanceof Ending.Halt halt) {
                assertInstanceOf(RunOutcome.Halted.class, outcome, () -> guest.name() + " did not halt: " + outcome
                        + "\nserial so far: " + serial.text());
                assertEquals(halt.serial(), serial.text(), guest.name() + ": serial output");
                Regs regs = vcpu.getRegs();
                for (Map.Entry<io.jkvm.guests.Register, Long> e : halt.registers().entrySet())
                    assertEquals(Long.toHexString(e.getValue()),
                            Long.toHexString(regs.get(Register.valueOf(e.getKey().name()))),
                            guest.name() + ": " + e.getKey().key() + "\n" + regs);
                for (MemoryCheck m : halt.memory())
                    assertEquals(Long.toHexString(m.value()), Long.toHexString(read(memory, m)),
                            String.format("%s: %d bytes at %#x", guest.name(), m.size(), m.address()));
            } else {
                assertInstanceOf(RunOutcome.Stopped.class, outcome, () -> guest.name() + " ended: " + outcome);
                assertEquals(LOOP_EXITS, probe.writes(), guest.name() + ": loop exits");
                assertEquals("", serial.text());
            }
        }
    }

    private static RunOutcome runWithTimeout(VcpuRunner runner) throws InterruptedException {
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
        try {
            watchdog.schedule(runner::stop, TIMEOUT_SECONDS, TimeUnit.SECONDS);
            runner.start();
            return runner.await();
        } finally {
            watchdog.shutdownNow();
        }
    }

    private static long read(GuestMemory memory, MemoryCheck m) {
        return switch (m.size()) {
            case 1 -> Byte.toUnsignedLong(memory.readByte(m.address()));
            case 2 -> Short.toUnsignedLong(memory.readShort(m.address()));
            case 4 -> Integer.toUnsignedLong(memory.readInt(m.address()));
            default -> memory.readLong(m.address());
        };
    }
}
