package io.jkvm.kvm;

import io.jkvm.bus.InterruptLine;
import io.jkvm.io.EventFd;
import io.jkvm.kvm.sys.KvmIoctl;
import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.kvm.sys.LibC;
import io.jkvm.memory.GuestMemory;
import io.jkvm.memory.GuestRegion;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A VM fd (api.rst §4 "vm ioctls"). It owns its vCPUs and closes them, newest first, before its own fd.
 * Guest memory is owned by the caller and must outlive the VM.
 */
public final class Vm implements AutoCloseable {
    /**
     * The most one memory slot, so one {@link GuestRegion}, may map: KVM_MEM_MAX_NR_PAGES (2^31 - 1, Linux
     * include/linux/kvm_host.h) pages of 4 KiB; KVM_SET_USER_MEMORY_REGION refuses more with EINVAL.
     */
    public static final long MAX_SLOT_BYTES = ((1L << 31) - 1) * 4096;

    private final Kvm kvm;
    private final int fd;
    private final int vcpuMmapSize;
    private final Consumer<Vm> onClose;
    private final Deque<Vcpu> vcpus = new ArrayDeque<>();
    private int nextSlot;
    private boolean closed;
    /** The MSRs a vCPU state holds: KVM's list less those KVM_GET_MSRS cannot read; found by the first save. */
    private int[] msrsToSave;
    /** The guest TSC's one shift for every vCPU of a restored VM (see {@link TscShift}). */
    final TscShift tscShift = new TscShift();

    Vm(Kvm kvm, int fd, int vcpuMmapSize, Consumer<Vm> onClose) {
        this.kvm = kvm;
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
        this.onClose = onClose;
    }

    /** The /dev/kvm this VM was created from. */
    Kvm kvm() {
        return kvm;
    }

    /** KVM_SET_USER_MEMORY_REGION: one memory slot per region of {@code memory}. */
    public synchronized void mapMemory(GuestMemory memory) {
        ByteBuffer b = Structs.allocate(KvmStructs.UserspaceMemoryRegion.SIZE);
        for (GuestRegion r : memory.regions()) {
            b.putInt(KvmStructs.UserspaceMemoryRegion.SLOT, nextSlot)
                    .putInt(KvmStructs.UserspaceMemoryRegion.FLAGS, 0)
                    .putLong(KvmStructs.UserspaceMemoryRegion.GUEST_PHYS_ADDR, r.guestAddress())
                    .putLong(KvmStructs.UserspaceMemoryRegion.MEMORY_SIZE, r.size())
                    .putLong(KvmStructs.UserspaceMemoryRegion.USERSPACE_ADDR, r.hostAddress());
            KvmIoctl.KVM_SET_USER_MEMORY_REGION.call(fd, Structs.address(b));
            nextSlot++;
        }
    }

    /** KVM_SET_TSS_ADDR: three pages of guest-physical space, below 4 GiB, that KVM (VT-x) may use. */
    public void setTssAddress(long address) {
        KvmIoctl.KVM_SET_TSS_ADDR.call(fd, address);
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page of guest-physical space for VT-x's real-mode identity map. */
    public void setIdentityMapAddress(long address) {
        ByteBuffer b = Structs.allocate(Long.BYTES).putLong(0, address);
        KvmIoctl.KVM_SET_IDENTITY_MAP_ADDR.call(fd, Structs.address(b));
    }

    /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and local APICs; call before creating vCPUs. */
    public void createIrqchip() {
        KvmIoctl.KVM_CREATE_IRQCHIP.call(fd, 0);
    }

    /** KVM_CREATE_PIT2 with KVM_PIT_SPEAKER_DUMMY (KVM answers port 0x61); needs the irqchip. */
    public void createPit2() {
        ByteBuffer b = Structs.allocate(KvmStructs.PitConfig.SIZE);
        b.putInt(KvmStructs.PitConfig.FLAGS, KvmStructs.PitConfig.SPEAKER_DUMMY);
        KvmIoctl.KVM_CREATE_PIT2.call(fd, Structs.address(b));
    }

    /** KVM_GET_IRQCHIP: the raw state of in-kernel interrupt controller {@code chipId} (KvmStructs.Irqchip). */
    byte[] getIrqchip(int chipId) {
        ByteBuffer b = Structs.allocate(KvmStructs.Irqchip.SIZE);
        b.putInt(KvmStructs.Irqchip.CHIP_ID, chipId);
        KvmIoctl.KVM_GET_IRQCHIP.call(fd, Structs.address(b));
        return bytes(b);
    }

    /** KVM_SET_IRQCHIP with raw state as {@link #getIrqchip} returned it (its chip id included). */
    void setIrqchip(byte[] state) {
        KvmIoctl.KVM_SET_IRQCHIP.call(fd, Structs.address(direct(state)));
    }

    /** KVM_GET_PIT2: the raw struct kvm_pit_state2. */
    byte[] getPit2() {
        ByteBuffer b = Structs.allocate(KvmStructs.PitState2.SIZE);
        KvmIoctl.KVM_GET_PIT2.call(fd, Structs.address(b));
        return bytes(b);
    }

    void setPit2(byte[] state) {
        KvmIoctl.KVM_SET_PIT2.call(fd, Structs.address(direct(state)));
    }

    /** KVM_GET_CLOCK: the VM's kvmclock in nanoseconds. */
    long getClock() {
        ByteBuffer b = Structs.allocate(KvmStructs.ClockData.SIZE);
        KvmIoctl.KVM_GET_CLOCK.call(fd, Structs.address(b));
        return b.getLong(KvmStructs.ClockData.CLOCK);
    }

    /**
     * KVM_SET_CLOCK with flags 0: kvmclock reads {@code nanos} now and runs on from there (api.rst: without
     * KVM_CLOCK_REALTIME the host's wall-clock time since the save is not added).
     */
    void setClock(long nanos) {
        ByteBuffer b = Structs.allocate(KvmStructs.ClockData.SIZE);
        b.putLong(KvmStructs.ClockData.CLOCK, nanos);
        KvmIoctl.KVM_SET_CLOCK.call(fd, Structs.address(b));
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.get(0, out);
        return out;
    }

    private static ByteBuffer direct(byte[] state) {
        return Structs.allocate(state.length).put(0, state);
    }

    /** The MSR indices vCPU states of this VM hold, found once by {@code discover}. */
    synchronized int[] msrsToSave(Supplier<int[]> discover) {
        if (msrsToSave == null) msrsToSave = discover.get();
        return msrsToSave;
    }

    /** KVM_IRQ_LINE: drives GSI {@code gsi} of the in-kernel irqchip to {@code level}. */
    public void setIrqLine(int gsi, boolean level) {
        ByteBuffer b = Structs.allocate(KvmStructs.IrqLevel.SIZE);
        setIrqLine(b, gsi, level);
    }

    private void setIrqLine(ByteBuffer b, int gsi, boolean level) {
        b.putInt(KvmStructs.IrqLevel.IRQ, gsi).putInt(KvmStructs.IrqLevel.LEVEL, level ? 1 : 0);
        KvmIoctl.KVM_IRQ_LINE.call(fd, Structs.address(b));
    }

    /**
     * An interrupt line for a device, backed by KVM_IRQ_LINE on {@code gsi}. It keeps its own argument
     * buffer, so setting it allocates nothing; any thread may drive it.
     */
    public InterruptLine interruptLine(int gsi) {
        ByteBuffer b = Structs.allocate(KvmStructs.IrqLevel.SIZE);
        return asserted -> {
            synchronized (b) {
                setIrqLine(b, gsi, asserted);
            }
        };
    }

    /** KVM_IRQFD: a signal on {@code eventFd} raises an edge on {@code gsi} without a userspace ioctl. */
    public void registerIrqfd(EventFd eventFd, int gsi) {
        ByteBuffer b = Structs.allocate(KvmStructs.Irqfd.SIZE);
        b.putInt(KvmStructs.Irqfd.FD, eventFd.fd()).putInt(KvmStructs.Irqfd.GSI, gsi);
        KvmIoctl.KVM_IRQFD.call(fd, Structs.address(b));
    }

    /**
     * KVM_IOEVENTFD: a guest write of {@code length} bytes (0 = any, 1, 2, 4, 8) to {@code address}
     * (a port if {@code pio}, else guest-physical MMIO), optionally only of value {@code datamatch},
     * signals {@code eventFd} instead of exiting to userspace.
     */
    public void registerIoeventfd(EventFd eventFd, long address, int length, boolean pio, OptionalLong datamatch) {
        ByteBuffer b = Structs.allocate(KvmStructs.Ioeventfd.SIZE);
        int flags = (pio ? KvmStructs.Ioeventfd.FLAG_PIO : 0)
                | (datamatch.isPresent() ? KvmStructs.Ioeventfd.FLAG_DATAMATCH : 0);
        b.putLong(KvmStructs.Ioeventfd.DATAMATCH, datamatch.orElse(0))
                .putLong(KvmStructs.Ioeventfd.ADDR, address)
                .putInt(KvmStructs.Ioeventfd.LEN, length)
                .putInt(KvmStructs.Ioeventfd.FD, eventFd.fd())
                .putInt(KvmStructs.Ioeventfd.FLAGS, flags);
        KvmIoctl.KVM_IOEVENTFD.call(fd, Structs.address(b));
    }

    /** KVM_CREATE_VCPU with APIC id {@code id}; the vCPU is closed with this VM unless closed before. */
    public synchronized Vcpu createVcpu(int id) {
        int vcpuFd = KvmIoctl.KVM_CREATE_VCPU.call(fd, id);
        Vcpu vcpu = new Vcpu(this, id, vcpuFd, vcpuMmapSize, this::forget);
        vcpus.push(vcpu);
        return vcpu;
    }

    private synchronized void forget(Vcpu vcpu) {
        vcpus.remove(vcpu);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        while (!vcpus.isEmpty()) vcpus.peek().close();
        LibC.INSTANCE.close(fd);
        onClose.accept(this);
    }
}
