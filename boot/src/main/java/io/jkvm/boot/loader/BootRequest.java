package io.jkvm.boot.loader;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What to boot: the kernel (bzImage or ELF vmlinux), an optional initrd, the command line, the RSDP
 * address if the machine has ACPI tables, and optionally a forced entry kind (empty = automatic: the
 * 64-bit entry for a bzImage, PVH for a vmlinux that has a PVH note, else its 64-bit entry).
 */
public record BootRequest(Path kernel, Optional<Path> initrd, String cmdline, OptionalLong acpiRsdp,
                          Optional<EntryKind> entry) {
    public BootRequest {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(acpiRsdp, "acpiRsdp");
        Objects.requireNonNull(entry, "entry");
    }

    /** A request without ACPI and with the automatic entry choice. */
    public static BootRequest of(Path kernel, Optional<Path> initrd, String cmdline) {
        return new BootRequest(kernel, initrd, cmdline, OptionalLong.empty(), Optional.empty());
    }

    /** This request with the RSDP at {@code address} (e.g. {@code Layout.ACPI_RSDP}). */
    public BootRequest withAcpiRsdp(long address) {
        return new BootRequest(kernel, initrd, cmdline, OptionalLong.of(address), entry);
    }

    /** This request forcing {@code kind}; loading fails if the kernel has no such entry. */
    public BootRequest withEntry(EntryKind kind) {
        return new BootRequest(kernel, initrd, cmdline, acpiRsdp, Optional.of(kind));
    }
}
