package io.jkvm.boot.loader;

import java.util.Optional;

/**
 * A kernel laid out in guest memory, ready to run: what the machine assembly needs to set up the boot CPU
 * (entry kind, entry address, boot-info pointer) and the identity map ([kernelStart, kernelEnd)).
 *
 * @param format          bzImage or ELF vmlinux
 * @param entryKind       how to enter it (CPU mode and register conventions, see {@link EntryKind})
 * @param entryAddress    guest-physical RIP (LINUX_64) or EIP (PVH_32)
 * @param bootInfoAddress zero page for LINUX_64 (→ RSI), hvm_start_info for PVH_32 (→ EBX)
 * @param kernelStart     lowest guest-physical address the kernel image occupies
 * @param kernelEnd       end (exclusive) of the memory the kernel needs before it reads the memory map
 *                        (bzImage: the decompression area up to runtime start + init_size)
 * @param cmdlineAddress  where the NUL-terminated command line is
 * @param cmdlineLength   its length in bytes, without the NUL
 * @param initrd          where the initrd was placed, if any
 * @param e820            the memory map given to the kernel
 */
public record LoadedKernel(Format format, EntryKind entryKind, long entryAddress, long bootInfoAddress,
                           long kernelStart, long kernelEnd, long cmdlineAddress, int cmdlineLength,
                           Optional<Placement> initrd, E820Map e820) {
    /** The kernel file format. */
    public enum Format { BZIMAGE, ELF }

    /** A blob placed in guest memory at {@code [address, address + size)}. */
    public record Placement(long address, long size) {
        public long end() {
            return address + size;
        }
    }
}
