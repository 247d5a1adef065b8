package io.jkvm.cli;

import io.jkvm.boot.initramfs.Initramfs;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jkvm initramfs}: writes an uncompressed newc cpio archive for {@code run --initrd}. */
@Command(name = "initramfs", mixinStandardHelpOptions = true,
        description = {"Writes an uncompressed initramfs (newc cpio).",
                "  jkvm initramfs DIR OUT.cpio          packs the tree under DIR",
                "  jkvm initramfs --busybox BIN [--agent BIN] OUT.cpio  jkvm's default busybox initramfs"})
final class InitramfsCommand implements Callable<Integer> {
    @Option(names = "--busybox", paramLabel = "BIN", description = "a static busybox binary: write jkvm's default initramfs")
    Path busybox;

    @Option(names = "--agent", paramLabel = "BIN",
            description = "with --busybox: the guest agent (guests/agent), started when the machine has a vsock device")
    Path agent;

    @Parameters(paramLabel = "[DIR] OUT", arity = "1..2")
    java.util.List<Path> paths;

    @Override
    public Integer call() throws Exception {
        if ((busybox == null) == (paths.size() == 1))
            throw new IllegalArgumentException("give either DIR and OUT, or --busybox BIN and OUT");
        if (busybox != null && !Files.isRegularFile(busybox))
            throw new IllegalArgumentException(busybox + ": busybox binary not found");
        if (agent != null && (busybox == null || !Files.isRegularFile(agent)))
            throw new IllegalArgumentException(busybox == null ? "--agent needs --busybox" : agent + ": agent binary not found");
        Path out = paths.get(paths.size() - 1);
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".initramfs", ".tmp");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            if (busybox != null) Initramfs.writeBusybox(busybox, java.util.Optional.ofNullable(agent), os);
            else Initramfs.fromDirectory(paths.get(0), os);
        } catch (Exception e) {
            Files.deleteIfExists(tmp);
            throw e instanceof java.io.IOException io ? new IllegalArgumentException(io.getMessage(), io) : e;
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return ExitCode.OK;
    }
}
