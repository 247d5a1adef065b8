package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmCap;
import io.jkvm.kvm.sys.KvmIoctl;
import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.kvm.sys.LibC;
import io.jkvm.kvm.sys.Native;
import io.jkvm.kvm.sys.NativeException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * An open /dev/kvm: the root of the fd hierarchy (api.rst §4 "system ioctls"). It owns the VMs it creates
 * and closes them, newest first, before its own fd.
 */
public final class Kvm implements AutoCloseable {
    public static final Path DEVICE = Path.of("/dev/kvm");
    /** The only stable KVM API version (api.rst 4.1 KVM_GET_API_VERSION). */
    public static final int API_VERSION = 12;
    private static final Path PVM_MODULE = Path.of("/sys/module/kvm_pvm");
    /** The most CPUID entries and MSR indices we accept from KVM. */
    private static final int MAX_CPUID_ENTRIES = 1024;
    private static final int MAX_MSR_INDICES = 4096;

    private final int fd;
    private final Deque<Vm> vms = new ArrayDeque<>();
    private boolean closed;

    private Kvm(int fd) {
        this.fd = fd;
    }

    /** Opens /dev/kvm and checks its API version. */
    public static Kvm open() {
        return open(DEVICE);
    }

    static Kvm open(Path device) {
        int fd = LibC.INSTANCE.open(device.toString(), Native.O_RDWR | Native.O_CLOEXEC, 0);
        if (fd < 0) throw unavailable(device, Native.errno());
        int version = KvmIoctl.KVM_GET_API_VERSION.invoke(fd, 0);
        if (version != API_VERSION) {
            int errno = Native.errno();
            LibC.INSTANCE.close(fd);
            throw new KvmUnavailableException(version < 0
                    ? device + " is not a KVM device (KVM_GET_API_VERSION failed: " + Native.strerror(errno) + ")"
                    : device + " speaks KVM API version " + version + "; jkvm needs version " + API_VERSION);
        }
        return new Kvm(fd);
    }

    static KvmUnavailableException unavailable(Path device, int errno) {
        return new KvmUnavailableException(switch (errno) {
            case Native.ENOENT -> device + " does not exist: this host offers no KVM (load the kvm module, "
                    + "or enable virtualization in the firmware)";
            case Native.EACCES -> "cannot open " + device + ": permission denied; add your user to the kvm group "
                    + "(sudo usermod -aG kvm $USER, then log in again)";
            default -> "cannot open " + device + ": " + Native.strerror(errno) + " (errno " + errno + ")";
        });
    }

    /** True when /dev/kvm is PVM (the kvm_pvm module), whose emulator gaps jkvm works around. */
    public static boolean isPvm() {
        return Files.isDirectory(PVM_MODULE);
    }

    /** KVM_CHECK_EXTENSION: 0 if {@code cap} (a {@link KvmCap} number) is absent, else usually 1 or a count. */
    public int checkExtension(int cap) {
        return KvmIoctl.KVM_CHECK_EXTENSION.call(fd, cap);
    }

    /** The size of each vCPU's kvm_run mapping. */
    public int vcpuMmapSize() {
        return KvmIoctl.KVM_GET_VCPU_MMAP_SIZE.call(fd, 0);
    }

    /** The most vCPUs one VM may have (KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS, else 4: api.rst 4.7). */
    public int maxVcpus() {
        int max = checkExtension(KvmCap.MAX_VCPUS);
        if (max > 0) return max;
        int recommended = checkExtension(KvmCap.NR_VCPUS);
        return recommended > 0 ? recommended : 4;
    }

    /** KVM_GET_SUPPORTED_CPUID: every CPUID leaf KVM can present to a guest, with the bits it supports. */
    public List<CpuidEntry> supportedCpuid() {
        return getCpuid2(fd, KvmIoctl.KVM_GET_SUPPORTED_CPUID);
    }

    /**
     * A struct kvm_cpuid2 read through {@code ioctl} (KVM_GET_SUPPORTED_CPUID, KVM_GET_CPUID2): both fail
     * with E2BIG while nent is too small (api.rst 4.46), so the buffer grows until the entries fit.
     */
    static List<CpuidEntry> getCpuid2(int fd, KvmIoctl ioctl) {
        for (int n = 64; ; n *= 2) {
            ByteBuffer b = Structs.allocate(KvmStructs.Cpuid2.SIZE + n * KvmStructs.CpuidEntry2.SIZE);
            b.putInt(KvmStructs.Cpuid2.NENT, n);
            if (ioctl.invoke(fd, Structs.address(b)) >= 0) return readCpuid2(b);
            int errno = Native.errno();
            if (errno != Native.E2BIG || n >= MAX_CPUID_ENTRIES) throw new NativeException(ioctl.name(), errno);
        }
    }

    /**
     * The entries of a struct kvm_cpuid2 that KVM filled in. KVM_GET_CPUID2 of Linux 6.1 leaves nent as the
     * caller set it when it succeeds (it updates nent only on E2BIG; seen under nested KVM), so entries
     * past the real ones stay as allocated: all zero. A real entry never is (leaf 0 names the vendor), so
     * trailing all-zero entries are dropped.
     */
    static List<CpuidEntry> readCpuid2(ByteBuffer b) {
        int n = b.getInt(KvmStructs.Cpuid2.NENT);
        List<CpuidEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++)
            entries.add(CpuidEntry.read(b, KvmStructs.Cpuid2.ENTRIES + i * KvmStructs.CpuidEntry2.SIZE));
        CpuidEntry empty = new CpuidEntry(0, 0, 0, 0, 0, 0, 0);
        while (!entries.isEmpty() && entries.get(entries.size() - 1).equals(empty)) entries.remove(entries.size() - 1);
        return entries;
    }

    /** KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and restores for a guest. */
    public int[] msrIndexList() {
        for (int n = 256; ; n *= 2) {
            ByteBuffer b = Structs.allocate(KvmStructs.MsrList.SIZE + n * Integer.BYTES);
            b.putInt(KvmStructs.MsrList.NMSRS, n);
            if (KvmIoctl.KVM_GET_MSR_INDEX_LIST.invoke(fd, Structs.address(b)) >= 0) {
                int[] indices = new int[b.getInt(KvmStructs.MsrList.NMSRS)];
                for (int i = 0; i < indices.length; i++)
                    indices[i] = b.getInt(KvmStructs.MsrList.INDICES + i * Integer.BYTES);
                return indices;
            }
            int errno = Native.errno();
            if (errno != Native.E2BIG || n >= MAX_MSR_INDICES)
                throw new NativeException(KvmIoctl.KVM_GET_MSR_INDEX_LIST.name(), errno);
        }
    }

    /** KVM_CREATE_VM (machine type 0); the VM is closed with this Kvm unless closed before. */
    public synchronized Vm createVm() {
        int vmFd = KvmIoctl.KVM_CREATE_VM.call(fd, 0);
        Vm vm = new Vm(this, vmFd, vcpuMmapSize(), this::forget);
        vms.push(vm);
        return vm;
    }

    private synchronized void forget(Vm vm) {
        vms.remove(vm);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        while (!vms.isEmpty()) vms.peek().close();
        LibC.INSTANCE.close(fd);
    }
}
