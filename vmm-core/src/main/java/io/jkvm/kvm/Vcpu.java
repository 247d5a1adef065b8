package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmIoctl;
import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.kvm.sys.Mapping;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A vCPU fd and its kvm_run mapping (api.rst §4 "vcpu ioctls"). KVM wants a vCPU's ioctls from one
 * thread at a time; set the state up before starting its {@link VcpuRunner}, then leave it to that thread.
 * The getters and setters allocate (set-up and dumps); {@link #run()} and the exit-path helpers do not.
 */
public final class Vcpu implements AutoCloseable {
    private final Vm vm;
    private final int id;
    private final int fd;
    private final Mapping runMapping;
    private final KvmRun kvmRun;
    private final Consumer<Vcpu> onClose;
    // Argument buffers of the exit path (vCPU thread only): allocated once.
    private final ByteBuffer exitRegs = Structs.allocate(KvmStructs.Regs.SIZE);
    private final ByteBuffer exitEvents = Structs.allocate(KvmStructs.VcpuEvents.SIZE);
    private boolean closed;

    Vcpu(Vm vm, int id, int fd, int mmapSize, Consumer<Vcpu> onClose) {
        this.vm = vm;
        this.id = id;
        this.fd = fd;
        try {
            this.runMapping = Mapping.shared(fd, mmapSize);
        } catch (NativeException e) {
            LibC.INSTANCE.close(fd);
            throw e;
        }
        this.kvmRun = new KvmRun(runMapping.address(), runMapping.size());
        this.onClose = onClose;
    }

    public int id() {
        return id;
    }

    /** The VM this vCPU belongs to. */
    Vm vm() {
        return vm;
    }

    /** The in-place view of this vCPU's kvm_run. */
    public KvmRun kvmRun() {
        return kvmRun;
    }

    /**
     * KVM_RUN once. Returns true when the vCPU exited with an exit reason to read from {@link #kvmRun()},
     * false when KVM_RUN was interrupted (EINTR: a signal or immediate_exit; EAGAIN). Other errors throw.
     */
    public boolean run() {
        if (KvmIoctl.KVM_RUN.invoke(fd, 0) >= 0) return true;
        int errno = Native.errno();
        if (errno == Native.EINTR || errno == Native.EAGAIN) return false;
        throw new NativeException(KvmIoctl.KVM_RUN.name(), errno);
    }

    public Regs getRegs() {
        return Regs.read(getStruct(KvmIoctl.KVM_GET_REGS, KvmStructs.Regs.SIZE));
    }

    public void setRegs(Regs regs) {
        setStruct(KvmIoctl.KVM_SET_REGS, KvmStructs.Regs.SIZE, regs::write);
    }

    public Sregs getSregs() {
        return Sregs.read(getStruct(KvmIoctl.KVM_GET_SREGS, KvmStructs.Sregs.SIZE));
    }

    public void setSregs(Sregs sregs) {
        setStruct(KvmIoctl.KVM_SET_SREGS, KvmStructs.Sregs.SIZE, sregs::write);
    }

    public Fpu getFpu() {
        return Fpu.read(getStruct(KvmIoctl.KVM_GET_FPU, KvmStructs.Fpu.SIZE));
    }

    public void setFpu(Fpu fpu) {
        setStruct(KvmIoctl.KVM_SET_FPU, KvmStructs.Fpu.SIZE, fpu::write);
    }

    /** A state ioctl that fills a struct of {@code size} bytes (set-up and dumps only: allocates). */
    private ByteBuffer getStruct(KvmIoctl ioctl, int size) {
        ByteBuffer b = Structs.allocate(size);
        ioctl.call(fd, Structs.address(b));
        return b;
    }

    /** A state ioctl that takes a struct of {@code size} bytes, laid out by {@code writer}. */
    private void setStruct(KvmIoctl ioctl, int size, Consumer<ByteBuffer> writer) {
        ByteBuffer b = Structs.allocate(size);
        writer.accept(b);
        ioctl.call(fd, Structs.address(b));
    }

    /** KVM_GET_MSRS of the given MSR indices; throws naming the first MSR KVM could not read. */
    public List<MsrEntry> getMsrs(int... indices) {
        List<MsrEntry> entries = new ArrayList<>(indices.length);
        int read = readMsrs(indices, entries);
        if (read < indices.length)
            throw new IllegalStateException(String.format("KVM_GET_MSRS failed at MSR %#x", indices[read]));
        return entries;
    }

    /**
     * KVM_GET_MSRS: appends the MSRs KVM read to {@code into} and returns how many that was; KVM stops at
     * the first MSR it cannot read (api.rst KVM_GET_MSRS). At most {@link #MAX_MSRS_PER_CALL} at once.
     */
    int readMsrs(int[] indices, List<MsrEntry> into) {
        if (indices.length > MAX_MSRS_PER_CALL) throw new IllegalArgumentException(indices.length + " MSRs in one KVM_GET_MSRS");
        ByteBuffer b = msrs(indices.length);
        for (int i = 0; i < indices.length; i++) b.putInt(msrEntry(i) + KvmStructs.MsrEntry.INDEX, indices[i]);
        int read = KvmIoctl.KVM_GET_MSRS.call(fd, Structs.address(b));
        for (int i = 0; i < read; i++)
            into.add(new MsrEntry(indices[i], b.getLong(msrEntry(i) + KvmStructs.MsrEntry.DATA)));
        return read;
    }

    /** KVM_GET_MSRS and KVM_SET_MSRS refuse nmsrs >= MAX_IO_MSRS (256, arch/x86/kvm/x86.c) with E2BIG. */
    static final int MAX_MSRS_PER_CALL = 255;

    /** KVM_SET_MSRS; throws naming the first MSR KVM refused. */
    public void setMsrs(List<MsrEntry> entries) {
        int written = writeMsrs(entries);
        if (written < entries.size())
            throw new IllegalStateException(String.format("KVM_SET_MSRS refused MSR %#x (value %#x)",
                    entries.get(written).index(), entries.get(written).data()));
    }

    /** KVM_SET_MSRS of one MSR; false when KVM refuses the value. */
    public boolean trySetMsr(MsrEntry entry) {
        return writeMsrs(List.of(entry)) == 1;
    }

    /** KVM_SET_MSRS: the number of entries KVM set, stopping at the first it refused (api.rst 4.19). */
    int writeMsrs(List<MsrEntry> entries) {
        ByteBuffer b = msrs(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            b.putInt(msrEntry(i) + KvmStructs.MsrEntry.INDEX, entries.get(i).index());
            b.putLong(msrEntry(i) + KvmStructs.MsrEntry.DATA, entries.get(i).data());
        }
        return KvmIoctl.KVM_SET_MSRS.call(fd, Structs.address(b));
    }

    private static ByteBuffer msrs(int n) {
        ByteBuffer b = Structs.allocate(KvmStructs.Msrs.SIZE + n * KvmStructs.MsrEntry.SIZE);
        b.putInt(KvmStructs.Msrs.NMSRS, n);
        return b;
    }

    private static int msrEntry(int i) {
        return KvmStructs.Msrs.ENTRIES + i * KvmStructs.MsrEntry.SIZE;
    }

    /** KVM_SET_CPUID2: the CPUID leaves the guest sees. */
    public void setCpuid2(List<CpuidEntry> entries) {
        ByteBuffer b = Structs.allocate(KvmStructs.Cpuid2.SIZE + entries.size() * KvmStructs.CpuidEntry2.SIZE);
        b.putInt(KvmStructs.Cpuid2.NENT, entries.size());
        for (int i = 0; i < entries.size(); i++)
            entries.get(i).write(b, KvmStructs.Cpuid2.ENTRIES + i * KvmStructs.CpuidEntry2.SIZE);
        KvmIoctl.KVM_SET_CPUID2.call(fd, Structs.address(b));
    }

    /** KVM_GET_CPUID2: the CPUID leaves last set. */
    public List<CpuidEntry> getCpuid2() {
        return Kvm.getCpuid2(fd, KvmIoctl.KVM_GET_CPUID2);
    }

    /** A state ioctl's struct, as the raw bytes KVM filled in (snapshots: the UAPI layout is the format). */
    byte[] getState(KvmIoctl ioctl, int size) {
        byte[] state = new byte[size];
        getStruct(ioctl, size).get(0, state);
        return state;
    }

    /** A state ioctl given raw struct bytes, as {@link #getState} returned them. */
    void setState(KvmIoctl ioctl, byte[] state) {
        setStruct(ioctl, state.length, b -> b.put(0, state));
    }

    /** KVM_GET_TSC_KHZ: the guest's TSC frequency in kHz. */
    int tscKhz() {
        return KvmIoctl.KVM_GET_TSC_KHZ.call(fd, 0);
    }

    /** KVM_SET_TSC_KHZ (needs KVM_CAP_TSC_CONTROL): KVM scales the guest's TSC to {@code khz}. */
    void setTscKhz(int khz) {
        KvmIoctl.KVM_SET_TSC_KHZ.call(fd, khz);
    }

    /**
     * Whether the vCPU has the KVM_VCPU_TSC_OFFSET attribute (Documentation/virt/kvm/devices/vcpu.rst,
     * "GROUP: KVM_VCPU_TSC_CTRL", Linux 5.16+):
     * the offset KVM adds to the (scaled) host TSC to give the guest's, read and written as it is, without
     * the TSC synchronisation heuristics that a write of IA32_TSC goes through.
     */
    boolean hasTscOffset() {
        ByteBuffer b = tscOffsetAttr(null);
        return KvmIoctl.KVM_HAS_DEVICE_ATTR.invoke(fd, Structs.address(b)) >= 0;
    }

    long tscOffset() {
        ByteBuffer value = Structs.allocate(Long.BYTES);
        KvmIoctl.KVM_GET_DEVICE_ATTR.call(fd, Structs.address(tscOffsetAttr(value)));
        return value.getLong(0);
    }

    void setTscOffset(long offset) {
        ByteBuffer value = Structs.allocate(Long.BYTES).putLong(0, offset);
        KvmIoctl.KVM_SET_DEVICE_ATTR.call(fd, Structs.address(tscOffsetAttr(value)));
    }

    /** A struct kvm_device_attr naming KVM_VCPU_TSC_CTRL/KVM_VCPU_TSC_OFFSET, its value at {@code value}. */
    private static ByteBuffer tscOffsetAttr(ByteBuffer value) {
        ByteBuffer b = Structs.allocate(KvmStructs.DeviceAttr.SIZE);
        b.putInt(KvmStructs.DeviceAttr.GROUP, KvmStructs.DeviceAttr.VCPU_TSC_CTRL)
                .putLong(KvmStructs.DeviceAttr.ATTR, KvmStructs.DeviceAttr.VCPU_TSC_OFFSET)
                .putLong(KvmStructs.DeviceAttr.ADDR, value == null ? 0 : Structs.address(value));
        return b;
    }

    public LapicState getLapic() {
        return LapicState.read(getStruct(KvmIoctl.KVM_GET_LAPIC, KvmStructs.LapicState.SIZE));
    }

    public void setLapic(LapicState lapic) {
        setStruct(KvmIoctl.KVM_SET_LAPIC, KvmStructs.LapicState.SIZE, lapic::write);
    }

    public MpState getMpState() {
        ByteBuffer b = Structs.allocate(KvmStructs.MpState.SIZE);
        KvmIoctl.KVM_GET_MP_STATE.call(fd, Structs.address(b));
        return MpState.of(b.getInt(KvmStructs.MpState.MP_STATE));
    }

    public void setMpState(MpState state) {
        ByteBuffer b = Structs.allocate(KvmStructs.MpState.SIZE);
        b.putInt(KvmStructs.MpState.MP_STATE, state.value());
        KvmIoctl.KVM_SET_MP_STATE.call(fd, Structs.address(b));
    }

    public VcpuEvents getVcpuEvents() {
        return VcpuEvents.read(getStruct(KvmIoctl.KVM_GET_VCPU_EVENTS, KvmStructs.VcpuEvents.SIZE));
    }

    public void setVcpuEvents(VcpuEvents events) {
        setStruct(KvmIoctl.KVM_SET_VCPU_EVENTS, KvmStructs.VcpuEvents.SIZE, events::write);
    }

    /** KVM_SET_SIGNAL_MASK: the signal mask (a struct kvm_signal_mask at {@code address}) KVM_RUN runs with. */
    void setSignalMask(long address) {
        KvmIoctl.KVM_SET_SIGNAL_MASK.call(fd, address);
    }

    /**
     * KVM_KVMCLOCK_CTRL (api.rst): sets the "paused by the host" flag in the guest's pvclock page, which
     * Linux's soft-lockup watchdog checks, so the time the vCPU spent paused is not reported as a lockup.
     * Returns false when the guest has not enabled kvmclock (EINVAL) or KVM lacks the ioctl.
     */
    boolean markClockPaused() {
        return KvmIoctl.KVM_KVMCLOCK_CTRL.invoke(fd, 0) >= 0;
    }

    /** Exit path: RIP += {@code length} (KVM_GET_REGS, KVM_SET_REGS), allocation-free. */
    void skipInstruction(int length) {
        long at = Structs.address(exitRegs);
        KvmIoctl.KVM_GET_REGS.call(fd, at);
        exitRegs.putLong(Register.RIP.offset(), exitRegs.getLong(Register.RIP.offset()) + length);
        KvmIoctl.KVM_SET_REGS.call(fd, at);
    }

    /**
     * Exit path: delivers exception {@code vector} (no error code) on the next entry: KVM_GET_VCPU_EVENTS,
     * then KVM_SET_VCPU_EVENTS with exception.injected = 1, leaving the other events as they were.
     */
    void injectException(VcpuEvents.ExceptionEvent exception) {
        long at = Structs.address(exitEvents);
        KvmIoctl.KVM_GET_VCPU_EVENTS.call(fd, at);
        VcpuEvents.writeException(exitEvents, exception);
        KvmIoctl.KVM_SET_VCPU_EVENTS.call(fd, at);
    }

    /** This vCPU as its run loop sees it. */
    RunLoopVcpu forRunLoop() {
        return new RunLoopVcpu() {
            @Override public int id() { return id; }
            @Override public KvmRun kvmRun() { return kvmRun; }
            @Override public boolean run() { return Vcpu.this.run(); }
            @Override public void setSignalMask(long address) { Vcpu.this.setSignalMask(address); }
            @Override public boolean markClockPaused() { return Vcpu.this.markClockPaused(); }
            @Override public void skipInstruction(int length) { Vcpu.this.skipInstruction(length); }
            @Override public void injectException(VcpuEvents.ExceptionEvent e) { Vcpu.this.injectException(e); }
            @Override public String registerDump() { return Vcpu.this.registerDump(); }
        };
    }

    /** The registers and special registers, readable, for a failure report; never throws. */
    public String registerDump() {
        try {
            return "vcpu " + id + ":\n" + getRegs() + "\n" + getSregs();
        } catch (RuntimeException e) {
            return "vcpu " + id + ": registers unavailable (" + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        runMapping.close();
        LibC.INSTANCE.close(fd);
        onClose.accept(this);
    }
}
