package io.jkvm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every ioctl number against the value the kernel's own macros give (gcc on linux/kvm.h, Linux 6.1 UAPI). */
class KvmIoctlTest {
    private static final int ENOTTY = 25; // asm-generic/errno-base.h

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "KVM_GET_API_VERSION, ae00", "KVM_CREATE_VM, ae01", "KVM_GET_MSR_INDEX_LIST, c004ae02",
            "KVM_CHECK_EXTENSION, ae03", "KVM_GET_VCPU_MMAP_SIZE, ae04", "KVM_GET_SUPPORTED_CPUID, c008ae05",
            "KVM_CREATE_VCPU, ae41", "KVM_SET_USER_MEMORY_REGION, 4020ae46", "KVM_SET_TSS_ADDR, ae47",
            "KVM_SET_IDENTITY_MAP_ADDR, 4008ae48", "KVM_CREATE_IRQCHIP, ae60", "KVM_IRQ_LINE, 4008ae61",
            "KVM_IRQFD, 4020ae76", "KVM_CREATE_PIT2, 4040ae77", "KVM_IOEVENTFD, 4040ae79",
            "KVM_RUN, ae80", "KVM_GET_REGS, 8090ae81", "KVM_SET_REGS, 4090ae82", "KVM_GET_SREGS, 8138ae83",
            "KVM_SET_SREGS, 4138ae84", "KVM_GET_MSRS, c008ae88", "KVM_SET_MSRS, 4008ae89",
            "KVM_SET_SIGNAL_MASK, 4004ae8b", "KVM_GET_FPU, 81a0ae8c", "KVM_SET_FPU, 41a0ae8d",
            "KVM_GET_LAPIC, 8400ae8e", "KVM_SET_LAPIC, 4400ae8f", "KVM_SET_CPUID2, 4008ae90",
            "KVM_GET_CPUID2, c008ae91", "KVM_GET_MP_STATE, 8004ae98", "KVM_SET_MP_STATE, 4004ae99",
            "KVM_GET_VCPU_EVENTS, 8040ae9f", "KVM_SET_VCPU_EVENTS, 4040aea0",
            "KVM_GET_IRQCHIP, c208ae62", "KVM_SET_IRQCHIP, 8208ae63", "KVM_SET_CLOCK, 4030ae7b",
            "KVM_GET_CLOCK, 8030ae7c", "KVM_GET_PIT2, 8070ae9f", "KVM_SET_PIT2, 4070aea0",
            "KVM_GET_DEBUGREGS, 8080aea1", "KVM_SET_DEBUGREGS, 4080aea2", "KVM_GET_XSAVE, 9000aea4",
            "KVM_SET_XSAVE, 5000aea5", "KVM_GET_XSAVE2, 9000aecf", "KVM_GET_XCRS, 8188aea6",
            "KVM_SET_XCRS, 4188aea7", "KVM_SET_TSC_KHZ, aea2", "KVM_GET_TSC_KHZ, aea3",
            "KVM_SET_DEVICE_ATTR, 4018aee1", "KVM_GET_DEVICE_ATTR, 4018aee2", "KVM_HAS_DEVICE_ATTR, 4018aee3",
    })
    void matchesKernelHeader(KvmIoctl ioctl, String hex) {
        assertEquals(Long.parseLong(hex, 16), ioctl.number(), ioctl.name());
    }

    @ParameterizedTest
    @CsvSource({"0, 0x80, 0, ae80", "2, 0x81, 144, 8090ae81", "1, 0x46, 32, 4020ae46", "3, 0x05, 8, c008ae05"})
    void encodesDirectionSizeTypeAndNumber(int direction, String nr, int size, String hex) {
        assertEquals(Long.parseLong(hex, 16), KvmIoctl.ioc(direction, Integer.decode(nr), size));
    }

    @Test
    void failedIoctlNamesItself() {
        // /dev/null has no ioctls: ENOTTY.
        int fd = LibC.INSTANCE.open("/dev/null", Native.O_RDWR | Native.O_CLOEXEC, 0);
        try {
            NativeException e = assertThrows(NativeException.class,
                    () -> KvmIoctl.KVM_SET_SREGS.call(fd, 0));
            assertEquals(ENOTTY, e.errno());
            assertTrue(e.getMessage().startsWith("KVM_SET_SREGS failed: "), e.getMessage());
            assertTrue(e.getMessage().endsWith("(errno " + ENOTTY + ")"), e.getMessage());
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }
}
