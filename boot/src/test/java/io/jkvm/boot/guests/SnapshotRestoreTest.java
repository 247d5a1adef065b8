package io.jkvm.boot.guests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.boot.cpu.CpuidPatcher;
import io.jkvm.boot.cpu.LongModeSetup;
import io.jkvm.boot.cpu.ModeSetup;
import io.jkvm.boot.cpu.PageTables;
import io.jkvm.bus.Bus;
import io.jkvm.bus.BusDevice;
import io.jkvm.guests.Ending;
import io.jkvm.guests.GuestSpec;
import io.jkvm.guests.TestGuest;
import io.jkvm.kvm.Kvm;
import io.jkvm.kvm.MpState;
import io.jkvm.kvm.Register;
import io.jkvm.kvm.Vcpu;
import io.jkvm.kvm.VcpuRunner;
import io.jkvm.kvm.VcpuState;
import io.jkvm.kvm.Vm;
import io.jkvm.kvm.VmState;
import io.jkvm.memory.GuestMemory;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.testing.KvmTests;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Snapshot and restore of vCPUs, the VM and guest memory (vmm-core's VcpuState, VmState,
 * GuestMemory.saveTo/mapPrivate) on the snapshot-counter guest: run it on every vCPU, pause, save the state
 * and the memory to files, close the VM, build a new one from the files (memory mapped private from the
 * file) and resume. The guest's counters must carry on from where they were, its TSC must never go back
 * (it checks every count), no port write may be replayed or lost (the host counts them, the guest counts
 * them in memory), and the memory file must stay as saved while the restored guest writes.
 */
class SnapshotRestoreTest {
    private static final long GDT_ADDRESS = 0x500;
    private static final long PAGE_TABLES = 0x9000;
    private static final long TSS_ADDRESS = 0xfffb_d000L;
    /** The guest's per-vCPU blocks (snapshot-counter.S): COUNT, LAST_TSC, OUTS. */
    private static final long COUNTERS = 0x200000, BLOCK = 64, COUNT = 0, OUTS = 16;
    /** Port writes of every vCPU to wait for in each run: a few, so each vCPU surely ran. */
    private static final int OUTS_PER_RUN = 3;
    private static final long TIMEOUT_MILLIS = 120_000;

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {1, 2})
    void guestRunsOnFromTheSnapshot(int cpus, @TempDir Path dir) throws Exception {
        KvmTests.assumeKvm();
        TestGuest guest = TestGuest.load("snapshot-counter");
        GuestSpec spec = guest.spec();
        Ending.Loop loop = (Ending.Loop) spec.ending();
        List<GuestMemory.Range> layout = List.of(new GuestMemory.Range(0, spec.memorySize()));
        Path memoryFile = dir.resolve("memory"), stateFile = dir.resolve("state");
        long[] savedCounts = new long[cpus], savedOuts = new long[cpus];
        byte[] savedImage;
        long outsSeen;

        try (Kvm kvm = Kvm.open()) {
            try (GuestMemory memory = GuestMemory.allocate(layout)) {
                Vm vm = newVm(kvm, memory);
                memory.write(spec.loadAddress(), guest.image());
                ModeSetup mode = new LongModeSetup(GDT_ADDRESS, new PageTables(PAGE_TABLES, 1));
                mode.writeTables(memory);
                CpuidPatcher cpuid = new CpuidPatcher(kvm.supportedCpuid(), Kvm.isPvm());
                List<Vcpu> vcpus = new ArrayList<>();
                for (int i = 0; i < cpus; i++) {
                    Vcpu vcpu = vm.createVcpu(i);
                    mode.enter(vcpu, cpuid.forVcpu(i), ModeSetup.startRegs(spec.entry()));
                    vcpu.setMpState(MpState.RUNNABLE); // an AP would wait for INIT-SIPI
                    vcpus.add(vcpu);
                }
                CountingPort port = new CountingPort(loop.value(), 0);
                List<VcpuRunner> runners = start(vcpus, loop.address(), port);
                try {
                    awaitOuts(memory, cpus, new long[cpus], port);
                    for (VcpuRunner r : runners) r.pause();
                    for (VcpuRunner r : runners) assertTrue(r.awaitParked(TIMEOUT_MILLIS), "vCPU parked");

                    StateWriter out = new StateWriter();
                    out.section("vm", new VmState(vm));
                    for (Vcpu vcpu : vcpus) out.section("vcpu" + vcpu.id(), new VcpuState(vcpu));
                    Files.write(stateFile, out.toByteArray());
                    memory.saveTo(memoryFile);
                    for (int i = 0; i < cpus; i++) {
                        savedCounts[i] = memory.readLong(block(i) + COUNT);
                        savedOuts[i] = memory.readLong(block(i) + OUTS);
                    }
                    savedImage = memory.read(0, (int) spec.memorySize());
                    outsSeen = port.writes.get();
                    assertEquals(sum(savedOuts) + justAfterOut(vcpus, guest), outsSeen,
                            "port writes the host saw and the guest counted");
                } finally {
                    for (VcpuRunner r : runners) r.stop();
                    for (VcpuRunner r : runners) r.await();
                }
                assertEquals(List.of(), port.unexpected, "before the snapshot");
                vm.close();
            }

            try (GuestMemory memory = GuestMemory.mapPrivate(memoryFile, layout)) {
                assertArrayEquals(savedImage, memory.read(0, (int) spec.memorySize()), "guest memory as saved");
                Vm vm = newVm(kvm, memory);
                List<Vcpu> vcpus = new ArrayList<>();
                for (int i = 0; i < cpus; i++) vcpus.add(vm.createVcpu(i));
                StateReader in = new StateReader(Files.readAllBytes(stateFile));
                in.section("vm", new VmState(vm));
                for (Vcpu vcpu : vcpus) in.section("vcpu" + vcpu.id(), new VcpuState(vcpu));
                assertTrue(in.atEnd());

                CountingPort port = new CountingPort(loop.value(), outsSeen);
                List<VcpuRunner> runners = start(vcpus, loop.address(), port);
                long outs = 0;
                try {
                    awaitOuts(memory, cpus, savedOuts, port);
                    for (VcpuRunner r : runners) r.pause();
                    for (VcpuRunner r : runners) assertTrue(r.awaitParked(TIMEOUT_MILLIS), "vCPU parked");
                    for (int i = 0; i < cpus; i++) outs += memory.readLong(block(i) + OUTS);
                    assertEquals(outs + justAfterOut(vcpus, guest), port.writes.get(),
                            "port writes the host saw and the guest counted (none replayed or lost)");
                } finally {
                    for (VcpuRunner r : runners) r.stop();
                    for (VcpuRunner r : runners) r.await();
                }
                assertEquals(List.of(), port.unexpected, "after the restore (0xbad75c: the guest saw its TSC go back)");
                for (int i = 0; i < cpus; i++) {
                    long count = memory.readLong(block(i) + COUNT);
                    assertTrue(count > savedCounts[i], "vcpu " + i + " counted on from " + savedCounts[i] + ": " + count);
                }
            }
            assertEquals(savedCounts[0], fileLong(memoryFile, block(0) + COUNT), "the memory file is unchanged");
        }
    }

    private static Vm newVm(Kvm kvm, GuestMemory memory) {
        Vm vm = kvm.createVm();
        vm.setTssAddress(TSS_ADDRESS);
        vm.createIrqchip();
        vm.createPit2();
        vm.mapMemory(memory);
        return vm;
    }

    private static List<VcpuRunner> start(List<Vcpu> vcpus, long portAddress, CountingPort port) {
        Bus pio = new Bus("pio");
        Bus mmio = new Bus("mmio");
        pio.register(portAddress, 4, port);
        List<VcpuRunner> runners = new ArrayList<>();
        for (Vcpu vcpu : vcpus) {
            VcpuRunner r = new VcpuRunner(vcpu, pio, mmio, Kvm.isPvm());
            r.start();
            runners.add(r);
        }
        return runners;
    }

    /** Waits until every vCPU has written the port {@link #OUTS_PER_RUN} times more than {@code from}. */
    private static void awaitOuts(GuestMemory memory, int cpus, long[] from, CountingPort port) throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MILLIS;
        for (int i = 0; i < cpus; i++) {
            while (memory.readLong(block(i) + OUTS) < from[i] + OUTS_PER_RUN) {
                assertTrue(port.unexpected.isEmpty(), () -> "unexpected port writes: " + port.unexpected);
                assertTrue(System.currentTimeMillis() < deadline, "vcpu " + i + " did not count on within the timeout");
                Thread.sleep(5);
            }
        }
    }

    /**
     * How many parked vCPUs stand between their port write and the instruction that counts it: each has a
     * write the host counted and the guest not yet. That instruction follows the guest's first
     * {@code out %eax,(%dx)} (opcode 0xef).
     */
    private static int justAfterOut(List<Vcpu> vcpus, TestGuest guest) {
        byte[] image = guest.image();
        int out = 0;
        while (image[out] != (byte) 0xef) out++;
        long counting = guest.spec().loadAddress() + out + 1;
        int n = 0;
        for (Vcpu vcpu : vcpus) if (vcpu.getRegs().get(Register.RIP) == counting) n++;
        return n;
    }

    private static long block(int vcpu) {
        return COUNTERS + vcpu * BLOCK;
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) s += v;
        return s;
    }

    private static long fileLong(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, offset);
            return b.getLong(0);
        }
    }

    /** The guest's port: counts the expected writes of every vCPU, records anything else. */
    private static final class CountingPort implements BusDevice {
        private final long expected;
        final AtomicLong writes;
        final List<String> unexpected = new CopyOnWriteArrayList<>();

        CountingPort(long expected, long writesSoFar) {
            this.expected = expected;
            this.writes = new AtomicLong(writesSoFar);
        }

        @Override
        public long read(long offset, int size) {
            unexpected.add(String.format("read of %d bytes at +%#x", size, offset));
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {
            if (offset == 0 && size == 4 && value == expected) writes.incrementAndGet();
            else unexpected.add(String.format("write of %d bytes, value %#x at +%#x", size, value, offset));
        }
    }
}
