package io.jkvm.kvm.sys;

/**
 * The KVM ioctls jkvm issues, in the order of linux/kvm.h, each computed like the kernel's
 * _IO/_IOR/_IOW/_IOWR macros (asm-generic/ioctl.h) from type 0xAE, its number and its argument size.
 * A failing call throws a {@link NativeException} named after the ioctl.
 */
public enum KvmIoctl {
    // ioctls for /dev/kvm
    KVM_GET_API_VERSION(io(0x00)),
    KVM_CREATE_VM(io(0x01)),
    KVM_GET_MSR_INDEX_LIST(iowr(0x02, KvmStructs.MsrList.SIZE)),
    KVM_CHECK_EXTENSION(io(0x03)),
    KVM_GET_VCPU_MMAP_SIZE(io(0x04)),
    KVM_GET_SUPPORTED_CPUID(iowr(0x05, KvmStructs.Cpuid2.SIZE)),
    // ioctls for a VM fd
    KVM_CREATE_VCPU(io(0x41)),
    KVM_SET_USER_MEMORY_REGION(iow(0x46, KvmStructs.UserspaceMemoryRegion.SIZE)),
    KVM_SET_TSS_ADDR(io(0x47)),
    KVM_SET_IDENTITY_MAP_ADDR(iow(0x48, Long.BYTES)),
    KVM_CREATE_IRQCHIP(io(0x60)),
    KVM_IRQ_LINE(iow(0x61, KvmStructs.IrqLevel.SIZE)),
    /** api.rst KVM_GET_IRQCHIP: reads the state of one in-kernel interrupt controller (PIC master, slave, IOAPIC). */
    KVM_GET_IRQCHIP(iowr(0x62, KvmStructs.Irqchip.SIZE)),
    /** api.rst KVM_SET_IRQCHIP (the kernel declares it _IOR, though it writes). */
    KVM_SET_IRQCHIP(ior(0x63, KvmStructs.Irqchip.SIZE)),
    KVM_IRQFD(iow(0x76, KvmStructs.Irqfd.SIZE)),
    KVM_CREATE_PIT2(iow(0x77, KvmStructs.PitConfig.SIZE)),
    KVM_IOEVENTFD(iow(0x79, KvmStructs.Ioeventfd.SIZE)),
    /** api.rst KVM_SET_CLOCK, KVM_GET_CLOCK: the VM's kvmclock, in nanoseconds. */
    KVM_SET_CLOCK(iow(0x7b, KvmStructs.ClockData.SIZE)),
    KVM_GET_CLOCK(ior(0x7c, KvmStructs.ClockData.SIZE)),
    // ioctls for a vCPU fd
    KVM_RUN(io(0x80)),
    KVM_GET_REGS(ior(0x81, KvmStructs.Regs.SIZE)),
    KVM_SET_REGS(iow(0x82, KvmStructs.Regs.SIZE)),
    KVM_GET_SREGS(ior(0x83, KvmStructs.Sregs.SIZE)),
    KVM_SET_SREGS(iow(0x84, KvmStructs.Sregs.SIZE)),
    KVM_GET_MSRS(iowr(0x88, KvmStructs.Msrs.SIZE)),
    KVM_SET_MSRS(iow(0x89, KvmStructs.Msrs.SIZE)),
    KVM_SET_SIGNAL_MASK(iow(0x8b, KvmStructs.SignalMask.SIZE)),
    KVM_GET_FPU(ior(0x8c, KvmStructs.Fpu.SIZE)),
    KVM_SET_FPU(iow(0x8d, KvmStructs.Fpu.SIZE)),
    KVM_GET_LAPIC(ior(0x8e, KvmStructs.LapicState.SIZE)),
    KVM_SET_LAPIC(iow(0x8f, KvmStructs.LapicState.SIZE)),
    KVM_SET_CPUID2(iow(0x90, KvmStructs.Cpuid2.SIZE)),
    KVM_GET_CPUID2(iowr(0x91, KvmStructs.Cpuid2.SIZE)),
    KVM_GET_MP_STATE(ior(0x98, KvmStructs.MpState.SIZE)),
    KVM_SET_MP_STATE(iow(0x99, KvmStructs.MpState.SIZE)),
    KVM_GET_VCPU_EVENTS(ior(0x9f, KvmStructs.VcpuEvents.SIZE)),
    KVM_SET_VCPU_EVENTS(iow(0xa0, KvmStructs.VcpuEvents.SIZE)),
    /** api.rst KVM_GET_PIT2, KVM_SET_PIT2 (VM fd; same numbers as the vCPU events ioctls). */
    KVM_GET_PIT2(ior(0x9f, KvmStructs.PitState2.SIZE)),
    KVM_SET_PIT2(iow(0xa0, KvmStructs.PitState2.SIZE)),
    /** api.rst KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS. */
    KVM_GET_DEBUGREGS(ior(0xa1, KvmStructs.Debugregs.SIZE)),
    KVM_SET_DEBUGREGS(iow(0xa2, KvmStructs.Debugregs.SIZE)),
    /** api.rst KVM_SET_TSC_KHZ, KVM_GET_TSC_KHZ (vCPU fd): the guest's TSC frequency. */
    KVM_SET_TSC_KHZ(io(0xa2)),
    KVM_GET_TSC_KHZ(io(0xa3)),
    /** api.rst KVM_GET_XSAVE, KVM_SET_XSAVE: the XSAVE area, 4 KiB. */
    KVM_GET_XSAVE(ior(0xa4, KvmStructs.Xsave.SIZE)),
    KVM_SET_XSAVE(iow(0xa5, KvmStructs.Xsave.SIZE)),
    /** api.rst KVM_GET_XCRS, KVM_SET_XCRS: the extended control registers (XCR0). */
    KVM_GET_XCRS(ior(0xa6, KvmStructs.Xcrs.SIZE)),
    KVM_SET_XCRS(iow(0xa7, KvmStructs.Xcrs.SIZE)),
    KVM_KVMCLOCK_CTRL(io(0xad)),
    /** api.rst KVM_GET_XSAVE2: the XSAVE area when KVM_CAP_XSAVE2 says it is larger than 4 KiB. */
    KVM_GET_XSAVE2(ior(0xcf, KvmStructs.Xsave.SIZE)),
    /** api.rst KVM_SET_DEVICE_ATTR, KVM_GET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR (device, VM and vCPU fds): device attributes such as KVM_VCPU_TSC_OFFSET. */
    KVM_SET_DEVICE_ATTR(iow(0xe1, KvmStructs.DeviceAttr.SIZE)),
    KVM_GET_DEVICE_ATTR(iow(0xe2, KvmStructs.DeviceAttr.SIZE)),
    KVM_HAS_DEVICE_ATTR(iow(0xe3, KvmStructs.DeviceAttr.SIZE));

    /** KVMIO, the ioctl type of every KVM request (linux/kvm.h). */
    static final int KVMIO = 0xAE;
    // asm-generic/ioctl.h: nr in bits 0-7, type 8-15, size 16-29, direction 30-31.
    private static final int IOC_NONE = 0b00, IOC_WRITE = 0b01, IOC_READ = 0b10;

    private final long number;

    KvmIoctl(long number) {
        this.number = number;
    }

    /** The request number passed to ioctl(2). */
    public long number() {
        return number;
    }

    /** Issues this ioctl; returns its non-negative result or throws naming the ioctl. */
    public int call(int fd, long arg) {
        int r = LibC.INSTANCE.ioctl(fd, number, arg);
        if (r < 0) throw NativeException.last(name());
        return r;
    }

    /** Issues this ioctl and returns ioctl(2)'s raw result: -1 means failure, see {@link Native#errno()}. */
    public int invoke(int fd, long arg) {
        return LibC.INSTANCE.ioctl(fd, number, arg);
    }

    static long ioc(int direction, int nr, int size) {
        return ((long) direction << 30) | ((long) size << 16) | (KVMIO << 8) | nr;
    }

    private static long io(int nr) {
        return ioc(IOC_NONE, nr, 0);
    }

    private static long ior(int nr, int size) {
        return ioc(IOC_READ, nr, size);
    }

    private static long iow(int nr, int size) {
        return ioc(IOC_WRITE, nr, size);
    }

    private static long iowr(int nr, int size) {
        return ioc(IOC_READ | IOC_WRITE, nr, size);
    }
}
