package io.jkvm.boot.loader;

/** How the boot CPU enters the kernel; decides the initial CPU state the machine assembly sets up. */
public enum EntryKind {
    /**
     * Linux 64-bit boot protocol (boot.rst "64-bit boot protocol"): long mode with paging, an identity
     * map covering the kernel's [kernelStart, kernelEnd), the zero page and the command line; a GDT with
     * __BOOT_CS = 0x10 (64-bit code) and __BOOT_DS = 0x18 (data) loaded in CS and DS/ES/SS; interrupts
     * off; RSI = the zero page ({@link LoadedKernel#bootInfoAddress()}); RIP = the entry address.
     */
    LINUX_64,
    /**
     * PVH boot ABI (Xen docs/misc/pvh.pandoc): 32-bit protected mode, paging off; CR0 = PE only, CR4 = 0;
     * CS a flat 32-bit read/execute segment, DS/ES/SS flat 32-bit read/write, TR a 32-bit TSS (base 0,
     * limit 0x67); EFLAGS.IF/TF/VM clear; EBX = the hvm_start_info ({@link LoadedKernel#bootInfoAddress()});
     * EIP = the entry address.
     */
    PVH_32
}
