package io.jkvm.boot.initramfs;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Builds initramfs archives (uncompressed newc cpio): jkvm's default busybox initramfs, and the
 * packing of a host directory. Uncompressed on purpose: on PVM the guest kernel runs through KVM's
 * instruction emulator and unpacking a gzip archive there takes minutes (guests/linux/README.md).
 */
public final class Initramfs {
    /** The line /init prints on the console once proc, sys and devtmpfs are mounted. */
    public static final String INIT_OK_MARKER = "JKVM-INIT-OK";
    /**
     * The prefix of the line /init prints after a command given on the kernel command line
     * (after {@code --}) has finished, followed by its exit status; /init then powers off.
     */
    public static final String EXIT_MARKER_PREFIX = "JKVM-EXIT=";

    /**
     * The word jkvm puts right after {@code --} on the kernel command line, in front of init's command.
     * Linux hands init every command-line word it did not consume itself, words without {@code =} as
     * arguments (init/main.c, unknown_bootoption), before the words after {@code --}: on PVM that includes
     * jkvm's own {@code noxsave}. /init runs only the words after this marker, so nothing the kernel leaves
     * over can become part of the command.
     */
    public static final String COMMAND_MARKER = "JKVM-COMMAND";

    /**
     * The kernel command line parameter ({@code JKVM_EXIT=reboot}) that makes /init end the machine
     * with {@code reboot -f} instead of {@code poweroff -f}. Unknown {@code name=value} parameters
     * reach init as environment variables (Documentation/admin-guide/kernel-parameters.rst).
     */
    public static final String EXIT_ACTION_VARIABLE = "JKVM_EXIT";

    /**
     * The kernel command line parameter ({@code JKVM_COMMAND_FROM=console}) that makes /init take its command
     * from the console instead of the command line: it prints {@link #READY_MARKER} and reads one line,
     * {@code SECONDS BASE64}, the host's time (epoch seconds, set as the guest's clock) and the command
     * (base64, so that any byte survives the terminal). The boot cache snapshots a guest at that point and
     * restores it to run another command at another time (io.jkvm.boot.cache).
     */
    public static final String COMMAND_FROM_VARIABLE = "JKVM_COMMAND_FROM";
    /** The value of {@link #COMMAND_FROM_VARIABLE} that selects the console. */
    public static final String COMMAND_FROM_CONSOLE = "console";
    /** The line /init prints when it waits for the console line that {@link #COMMAND_FROM_VARIABLE} asks for. */
    public static final String READY_MARKER = "JKVM-READY";

    /** The busybox applets the default initramfs links into /bin. */
    public static final List<String> BUSYBOX_APPLETS = List.of(
            "sh", "ash", "cttyhack", "setsid", "mount", "umount", "echo", "printf", "cat", "true",
            "false", "test", "[", "poweroff", "reboot", "halt", "sync", "sleep", "sha256sum",
            "md5sum", "dd", "nproc", "dmesg", "head", "tail", "ls", "mkdir", "rm", "cp", "mv", "ln",
            "grep", "sed", "awk", "wc", "cut", "tr", "cmp", "hexdump", "od", "xxd", "uname", "ps",
            "kill", "env", "date", "stat", "free", "df", "ip", "ifconfig", "mknod", "chmod", "seq",
            "time", "timeout", "stty", "tty", "vi", "mke2fs", "hwclock", "ping", "nc", "base64");

    /** Where the default initramfs keeps the guest agent (guests/agent), when it has one. */
    public static final String AGENT_PATH = "bin/jkvm-agent";

    /**
     * The part of /init that starts the guest agent in the background when there is one and the machine has a
     * virtio-vsock device: sysfs shows virtio device ID 19 (virtio 1.2 §5) as 0x0013.
     */
    private static final String START_AGENT = """
            if [ -x /%s ]; then
                for d in /sys/bus/virtio/devices/*; do
                    [ "$(cat $d/device 2>/dev/null)" = 0x0013 ] && { /%1$s & break; }
                done
            fi
            """.formatted(AGENT_PATH);

    /** /dev/console, needed before devtmpfs is mounted (Linux devices.txt: char 5:1). */
    private static final int CONSOLE_MAJOR = 5;
    private static final int CONSOLE_MINOR = 1;

    /**
     * The part of /init that drops every argument up to and including {@link #COMMAND_MARKER}, leaving
     * the command's words in {@code $@} (none when the command line has no marker).
     */
    private static final String SELECT_COMMAND = """
            while [ $# -gt 0 ] && [ "$1" != %1$s ]; do shift; done
            [ $# -gt 0 ] && shift
            """.formatted(COMMAND_MARKER);

    /**
     * The part of /init that, with {@code JKVM_COMMAND_FROM=console}, reads the time and the command from the
     * console and leaves the command's text in {@code $1} (no argument for an empty command). Echo is off
     * while the line is read: the guest's terminal would otherwise print it back. {@code date -s @N} is
     * busybox's epoch-seconds form (libbb/time.c, parse_datestr).
     */
    private static final String READ_COMMAND = """
            if [ "$%1$s" = %2$s ]; then
                stty -echo
                echo %3$s
                read -r now command
                stty echo
                date -s "@$now" >/dev/null
                set -- "$(printf %%s "$command" | base64 -d)"
                [ -n "$1" ] || shift
            fi
            """.formatted(COMMAND_FROM_VARIABLE, COMMAND_FROM_CONSOLE, READY_MARKER);

    private static final String INIT_SCRIPT = """
            #!/bin/sh
            # jkvm default init (run by busybox sh as PID 1).
            # Linux passes init the command-line words it did not use (such as noxsave), then the
            # words after "--", in front of which jkvm writes %1$s. Only the words after that
            # marker are the command: they are run with sh -c, their status is printed, and the
            # machine powers off. That shell is not made a session leader with the console as its
            # terminal: when such a leader exits, Linux hangs the terminal up and drops output the
            # UART has not sent yet (seen with 2 vCPUs: the command's last line was lost). Without a
            # command an interactive shell runs on the console; leaving it powers off (or, with
            # JKVM_EXIT=reboot on the kernel command line, which reaches init as an environment
            # variable, reboots: for machines that have a keyboard-controller reset but no ACPI
            # power-off). With JKVM_COMMAND_FROM=console the command comes from the console instead,
            # after the line %7$s (jkvm's boot cache snapshots the guest there).
            export PATH=/bin
            %4$s\
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            %6$s\
            echo %2$s
            %8$s\
            if [ $# -gt 0 ]; then
                sh -c "$*"
                echo %3$s$?
            else
                setsid cttyhack sh
            fi
            sync
            case "$%5$s" in
                reboot) reboot -f ;;
                *) poweroff -f ;;
            esac
            """.formatted(COMMAND_MARKER, INIT_OK_MARKER, EXIT_MARKER_PREFIX, SELECT_COMMAND, EXIT_ACTION_VARIABLE,
                    START_AGENT, READY_MARKER, READ_COMMAND);

    private Initramfs() {
    }

    /** The /init script of the default initramfs. */
    public static String initScript() {
        return INIT_SCRIPT;
    }

    /** The lines of /init that choose the command's words from its arguments (for tests). */
    public static String commandSelection() {
        return SELECT_COMMAND;
    }

    /** The lines of /init that read the time and the command from the console (for tests). */
    public static String commandFromConsole() {
        return READ_COMMAND;
    }

    /**
     * Writes jkvm's default initramfs: {@code busybox} (a static binary) at /bin/busybox with the
     * {@link #BUSYBOX_APPLETS} as hard links to it (one inode: no symbolic link for the unpacker to create or
     * for each exec to follow, both kernel work that is emulated on PVM), /init, /dev/console and the mount
     * points: nothing else.
     */
    public static void writeBusybox(Path busybox, OutputStream out) throws IOException {
        writeBusybox(busybox, Optional.empty(), out);
    }

    /**
     * The same, plus the guest agent (a static binary) at {@link #AGENT_PATH}, which /init starts when the
     * machine has a virtio-vsock device.
     */
    public static void writeBusybox(Path busybox, Optional<Path> agent, OutputStream out) throws IOException {
        try (CpioWriter cpio = new CpioWriter(out)) {
            for (String dir : List.of("bin", "dev", "proc", "sys", "tmp", "root", "etc", "mnt")) {
                cpio.directory(dir, dir.equals("tmp") ? 0_1777 : 0_755);
            }
            cpio.characterDevice("dev/console", 0_600, CONSOLE_MAJOR, CONSOLE_MINOR);
            List<String> names = new ArrayList<>();
            for (String applet : BUSYBOX_APPLETS) names.add("bin/" + applet);
            names.add("bin/busybox");
            cpio.hardLinkedFile(names, 0_755, busybox);
            if (agent.isPresent()) cpio.file(AGENT_PATH, 0_755, agent.get());
            cpio.file("init", 0_755, INIT_SCRIPT.getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Packs the tree under {@code dir} (not {@code dir} itself) into an initramfs: directories
     * before their contents, names sorted, permission bits kept, symbolic links stored as links,
     * device nodes and FIFOs as such, everything owned by root. Hard links become separate files;
     * sockets are rejected.
     */
    public static void fromDirectory(Path dir, OutputStream out) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + " is not a directory");
        try (CpioWriter cpio = new CpioWriter(out); Stream<Path> tree = Files.walk(dir)) {
            List<Path> paths = tree.filter(p -> !p.equals(dir)).sorted().toList();
            for (Path path : paths) {
                add(cpio, dir.relativize(path).toString(), path);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void add(CpioWriter cpio, String name, Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        int permissions = mode & 0_7777;
        switch (FileType.ofMode(mode)) {
            case DIRECTORY -> cpio.directory(name, permissions);
            case REGULAR -> cpio.file(name, permissions, path);
            case SYMLINK -> cpio.symlink(name, Files.readSymbolicLink(path).toString());
            case CHARACTER_DEVICE -> cpio.characterDevice(name, permissions, major(rdev(path)), minor(rdev(path)));
            case BLOCK_DEVICE -> cpio.blockDevice(name, permissions, major(rdev(path)), minor(rdev(path)));
            case FIFO -> cpio.fifo(name, permissions);
        }
    }

    private static long rdev(Path path) throws IOException {
        return (Long) Files.getAttribute(path, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
    }

    /** glibc's gnu_dev_major: bits 8-19 and 32-63 of a dev_t. */
    static long major(long dev) {
        return ((dev >>> 8) & 0xFFF) | ((dev >>> 32) & 0xFFFF_F000L);
    }

    /** glibc's gnu_dev_minor: bits 0-7 and 20-31 of a dev_t. */
    static long minor(long dev) {
        return (dev & 0xFF) | ((dev >>> 12) & 0xFFFF_FF00L);
    }
}
