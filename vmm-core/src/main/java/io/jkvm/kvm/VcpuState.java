package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmCap;
import io.jkvm.kvm.sys.KvmIoctl;
import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The state of one vCPU in a snapshot, read from and written to KVM. Saved in this order: MP state, REGS,
 * SREGS, the XSAVE area (struct kvm_fpu where KVM lacks KVM_CAP_XSAVE), XCRS, debug registers, local APIC,
 * the MSRs KVM lists (KVM_GET_MSR_INDEX_LIST), pending events, the CPUID the vCPU was given, its TSC
 * frequency, TSC and TSC offset. Structs go in as the bytes KVM gave (its UAPI layout is stable), each
 * checked for its length on restore.
 * <p>
 * Save only a vCPU whose run loop has parked ({@link VcpuRunner#awaitParked}): the loop completes the exit
 * in flight before it parks, so no I/O is half done. Pause every vCPU of the VM before saving any.
 * {@link #restoreState} reads and checks everything before it touches the vCPU, then applies it in the
 * order Firecracker's vstate uses: CPUID first (KVM checks the other registers against it), the TSC
 * frequency, the TSC, MP state, REGS, SREGS, XSAVE, XCRS, debug registers, LAPIC, MSRs, events last (they
 * may refer to state set before). Restore into a fresh vCPU that has not run.
 */
public final class VcpuState implements Stateful {
    private static final System.Logger LOG = System.getLogger(VcpuState.class.getName());
    /** IA32_TIME_STAMP_COUNTER (Intel SDM Vol. 4 Table 2-2). */
    static final int MSR_IA32_TSC = 0x10;
    /** The most MSRs and CPUID leaves a state may hold, as {@link Kvm} accepts from KVM itself. */
    private static final int MAX_MSRS = 4096, MAX_CPUID_ENTRIES = 1024;
    /** The largest XSAVE area accepted: KVM_CAP_XSAVE2 reports about 11 KiB with AMX tiles. */
    private static final int MAX_XSAVE = 64 * 1024;

    private final Vcpu vcpu;

    /** The state of {@code vcpu}: {@link #saveState} reads it from KVM, {@link #restoreState} sets it. */
    public VcpuState(Vcpu vcpu) {
        this.vcpu = vcpu;
    }

    @Override
    public void saveState(StateWriter out) {
        int xsaveSize = xsaveSize();
        byte[] fpu = xsaveSize == 0 ? vcpu.getState(KvmIoctl.KVM_GET_FPU, KvmStructs.Fpu.SIZE)
                : vcpu.getState(xsaveSize > KvmStructs.Xsave.SIZE ? KvmIoctl.KVM_GET_XSAVE2 : KvmIoctl.KVM_GET_XSAVE, xsaveSize);
        boolean hasTscOffset = vcpu.hasTscOffset();
        Saved saved = new Saved(vcpu.getMpState().value(),
                vcpu.getState(KvmIoctl.KVM_GET_REGS, KvmStructs.Regs.SIZE),
                vcpu.getState(KvmIoctl.KVM_GET_SREGS, KvmStructs.Sregs.SIZE),
                xsaveSize > 0, fpu,
                has(KvmCap.XCRS) ? vcpu.getState(KvmIoctl.KVM_GET_XCRS, KvmStructs.Xcrs.SIZE) : null,
                vcpu.getState(KvmIoctl.KVM_GET_DEBUGREGS, KvmStructs.Debugregs.SIZE),
                vcpu.getState(KvmIoctl.KVM_GET_LAPIC, KvmStructs.LapicState.SIZE),
                readMsrs(),
                vcpu.getState(KvmIoctl.KVM_GET_VCPU_EVENTS, KvmStructs.VcpuEvents.SIZE),
                vcpu.getCpuid2(),
                vcpu.tscKhz(),
                // The TSC and its offset back to back: the host TSC at this save is their difference (TscShift).
                vcpu.getMsrs(MSR_IA32_TSC).get(0).data(),
                hasTscOffset, hasTscOffset ? vcpu.tscOffset() : 0);
        saved.write(out);
    }

    @Override
    public void restoreState(StateReader in) {
        Saved s = Saved.read(in);
        int xsaveSize = xsaveSize();
        if (s.xsave() && s.fpu().length != xsaveSize) {
            throw new SnapshotFormatException("vcpu " + vcpu.id() + ": the saved XSAVE area is " + s.fpu().length
                    + " bytes, this host's KVM has " + (xsaveSize == 0 ? "no KVM_CAP_XSAVE" : xsaveSize + " bytes"));
        }
        if (s.xcrs() != null && !has(KvmCap.XCRS))
            throw new SnapshotFormatException("vcpu " + vcpu.id() + ": the state has XCRs; this host's KVM has no KVM_CAP_XCRS");

        apply("CPUID", () -> vcpu.setCpuid2(s.cpuid()));
        restoreTscKhz(s.tscKhz());
        boolean byOffset = s.hasTscOffset() && vcpu.hasTscOffset();
        if (byOffset) apply("TSC offset", () -> restoreTscOffset(s.tsc(), s.tscOffset()));
        apply("MP state", () -> vcpu.setMpState(MpState.of(s.mpState())));
        apply("REGS", () -> vcpu.setState(KvmIoctl.KVM_SET_REGS, s.regs()));
        apply("SREGS", () -> vcpu.setState(KvmIoctl.KVM_SET_SREGS, s.sregs()));
        apply(s.xsave() ? "XSAVE area" : "FPU", () -> vcpu.setState(s.xsave() ? KvmIoctl.KVM_SET_XSAVE : KvmIoctl.KVM_SET_FPU, s.fpu()));
        if (s.xcrs() != null) apply("XCRS", () -> vcpu.setState(KvmIoctl.KVM_SET_XCRS, s.xcrs()));
        apply("DEBUGREGS", () -> vcpu.setState(KvmIoctl.KVM_SET_DEBUGREGS, s.debugregs()));
        apply("LAPIC", () -> vcpu.setState(KvmIoctl.KVM_SET_LAPIC, s.lapic()));
        // With the offset restored, a write of IA32_TSC would undo it (see TscShift); without, it is the TSC.
        List<MsrEntry> msrs = byOffset ? s.msrs().stream().filter(m -> m.index() != MSR_IA32_TSC).toList() : s.msrs();
        apply("MSRs", () -> restoreMsrs(msrs));
        apply("VCPU_EVENTS", () -> vcpu.setState(KvmIoctl.KVM_SET_VCPU_EVENTS, s.events()));
    }

    /**
     * A vCPU state as it is stored, fields in save order. {@code fpu} is the XSAVE area if {@code xsave},
     * else a struct kvm_fpu; {@code xcrs} is null where KVM has no KVM_CAP_XCRS.
     */
    record Saved(int mpState, byte[] regs, byte[] sregs, boolean xsave, byte[] fpu, byte[] xcrs, byte[] debugregs,
                 byte[] lapic, List<MsrEntry> msrs, byte[] events, List<CpuidEntry> cpuid, int tscKhz, long tsc,
                 boolean hasTscOffset, long tscOffset) {

        void write(StateWriter out) {
            out.u32(mpState).bytes(regs).bytes(sregs).bool(xsave).bytes(fpu).bool(xcrs != null);
            if (xcrs != null) out.bytes(xcrs);
            out.bytes(debugregs).bytes(lapic);
            out.u32(msrs.size());
            for (MsrEntry m : msrs) out.u32(m.index()).u64(m.data());
            out.bytes(events);
            out.u32(cpuid.size());
            for (CpuidEntry e : cpuid)
                out.u32(e.function()).u32(e.index()).u32(e.flags()).u32(e.eax()).u32(e.ebx()).u32(e.ecx()).u32(e.edx());
            out.u32(tscKhz).u64(tsc).bool(hasTscOffset).u64(tscOffset);
        }

        /** Reads and checks every count and length; a short or malformed state is a SnapshotFormatException. */
        static Saved read(StateReader in) {
            int mpState = in.u32InRange("the MP state", 0, MpState.values().length - 1);
            byte[] regs = in.bytes("REGS", KvmStructs.Regs.SIZE);
            byte[] sregs = in.bytes("SREGS", KvmStructs.Sregs.SIZE);
            boolean xsave = in.bool();
            byte[] fpu = xsave ? in.bytes() : in.bytes("FPU", KvmStructs.Fpu.SIZE);
            if (xsave && (fpu.length < KvmStructs.Xsave.SIZE || fpu.length > MAX_XSAVE))
                throw new SnapshotFormatException("the XSAVE area is " + fpu.length + " bytes, outside ["
                        + KvmStructs.Xsave.SIZE + ", " + MAX_XSAVE + "]");
            byte[] xcrs = in.bool() ? in.bytes("XCRS", KvmStructs.Xcrs.SIZE) : null;
            byte[] debugregs = in.bytes("DEBUGREGS", KvmStructs.Debugregs.SIZE);
            byte[] lapic = in.bytes("LAPIC", KvmStructs.LapicState.SIZE);
            List<MsrEntry> msrs = new ArrayList<>();
            for (int i = in.u32InRange("the MSR count", 0, MAX_MSRS); i > 0; i--) msrs.add(new MsrEntry(in.u32(), in.u64()));
            byte[] events = in.bytes("VCPU_EVENTS", KvmStructs.VcpuEvents.SIZE);
            List<CpuidEntry> cpuid = new ArrayList<>();
            for (int i = in.u32InRange("the CPUID entry count", 1, MAX_CPUID_ENTRIES); i > 0; i--)
                cpuid.add(new CpuidEntry(in.u32(), in.u32(), in.u32(), in.u32(), in.u32(), in.u32(), in.u32()));
            int tscKhz = in.u32InRange("the TSC frequency (kHz)", 1, Integer.MAX_VALUE);
            return new Saved(mpState, regs, sregs, xsave, fpu, xcrs, debugregs, lapic, msrs, events, cpuid, tscKhz,
                    in.u64(), in.bool(), in.u64());
        }
    }

    /** KVM_SET_TSC_KHZ when this host's TSC runs at another frequency and KVM can scale it. */
    private void restoreTscKhz(int khz) {
        int here = vcpu.tscKhz();
        if (here == khz) return;
        if (!has(KvmCap.TSC_CONTROL)) {
            LOG.log(System.Logger.Level.WARNING, "vcpu " + vcpu.id() + ": the guest's TSC ran at " + khz + " kHz, "
                    + "this host's runs at " + here + " kHz and KVM cannot scale it (no KVM_CAP_TSC_CONTROL)");
            return;
        }
        apply("the TSC frequency", () -> vcpu.setTscKhz(khz));
    }

    /**
     * Writes the saved MSRs in chunks. One that KVM will not take from the host is skipped with a warning and
     * keeps KVM's value, as unreadable ones are left out of the save: on PVM, IA32_ARCH_CAPABILITIES (0x10a)
     * is listed and readable but a write of it is refused (../shared/platform.md), so jkvm never set it at
     * boot and the value saved is KVM's own anyway.
     */
    private void restoreMsrs(List<MsrEntry> msrs) {
        int next = 0;
        while (next < msrs.size()) {
            List<MsrEntry> chunk = msrs.subList(next, Math.min(msrs.size(), next + Vcpu.MAX_MSRS_PER_CALL));
            int written = vcpu.writeMsrs(chunk);
            next += written;
            if (written < chunk.size()) {
                MsrEntry refused = msrs.get(next++);
                LOG.log(System.Logger.Level.WARNING, String.format("vcpu %d: KVM refused MSR %#x (value %#x) on"
                        + " restore; it keeps KVM's value", vcpu.id(), refused.index(), refused.data()));
            }
        }
    }

    /** Offset = saved offset + the VM's one shift, so the guest TSC runs on from the save (TscShift). */
    private void restoreTscOffset(long savedTsc, long savedOffset) {
        long currentHost = vcpu.getMsrs(MSR_IA32_TSC).get(0).data() - vcpu.tscOffset();
        vcpu.setTscOffset(savedOffset + vcpu.vm().tscShift.shift(savedTsc - savedOffset, currentHost));
    }

    /** Applies one part of the state; KVM refusing it is a state that cannot be restored. */
    private void apply(String what, Runnable set) {
        try {
            set.run();
        } catch (NativeException | IllegalStateException e) {
            throw new SnapshotFormatException("vcpu " + vcpu.id() + ": KVM refused the saved " + what + ": " + e.getMessage());
        }
    }

    /** The XSAVE area's size (KVM_CAP_XSAVE2 when larger than 4 KiB, api.rst), or 0 without KVM_CAP_XSAVE. */
    private int xsaveSize() {
        if (!has(KvmCap.XSAVE)) return 0;
        return Math.max(KvmStructs.Xsave.SIZE, vcpu.vm().kvm().checkExtension(KvmCap.XSAVE2));
    }

    private boolean has(int cap) {
        return vcpu.vm().kvm().checkExtension(cap) > 0;
    }

    /** KVM_GET_MSRS of the VM's MSR list, in calls of at most {@link Vcpu#MAX_MSRS_PER_CALL}. */
    private List<MsrEntry> readMsrs() {
        int[] indices = vcpu.vm().msrsToSave(this::readableMsrs);
        List<MsrEntry> msrs = new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i += Vcpu.MAX_MSRS_PER_CALL) {
            int[] chunk = Arrays.copyOfRange(indices, i, Math.min(indices.length, i + Vcpu.MAX_MSRS_PER_CALL));
            int read = vcpu.readMsrs(chunk, msrs);
            if (read < chunk.length)
                throw new IllegalStateException(String.format("vcpu %d: KVM_GET_MSRS failed at MSR %#x", vcpu.id(), chunk[read]));
        }
        return msrs;
    }

    /**
     * KVM_GET_MSR_INDEX_LIST less the MSRs KVM_GET_MSRS cannot read on this vCPU (it lists MSRs of
     * features the guest's CPUID may lack): each is dropped and logged, once per VM.
     */
    private int[] readableMsrs() {
        int[] listed = vcpu.vm().kvm().msrIndexList();
        int[] kept = new int[listed.length];
        int n = 0;
        List<MsrEntry> scratch = new ArrayList<>();
        for (int i = 0; i < listed.length; ) {
            int[] chunk = Arrays.copyOfRange(listed, i, Math.min(listed.length, i + Vcpu.MAX_MSRS_PER_CALL));
            int read = vcpu.readMsrs(chunk, scratch);
            System.arraycopy(chunk, 0, kept, n, read);
            n += read;
            i += read;
            if (read < chunk.length) {
                LOG.log(System.Logger.Level.INFO, String.format("MSR %#x is listed by KVM but cannot be read: not saved", chunk[read]));
                i++;
            }
        }
        return Arrays.copyOf(kept, n);
    }
}
