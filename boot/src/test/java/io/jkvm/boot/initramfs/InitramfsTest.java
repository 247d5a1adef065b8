package io.jkvm.boot.initramfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitramfsTest {
    private static Map<String, NewcReader.Entry> byName(byte[] archive) {
        return NewcReader.read(archive).stream()
                .collect(Collectors.toMap(NewcReader.Entry::name, Function.identity()));
    }

    private static byte[] busyboxArchive(Path busybox) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Initramfs.writeBusybox(busybox, out);
        return out.toByteArray();
    }

    @Test
    void busyboxInitramfsHasInitConsoleAndApplets(@TempDir Path tmp) throws IOException {
        byte[] fakeBusybox = "\u007fELF fake".getBytes(StandardCharsets.US_ASCII);
        Map<String, NewcReader.Entry> e = byName(busyboxArchive(Files.write(tmp.resolve("bb"), fakeBusybox)));

        NewcReader.Entry init = e.get("init");
        assertEquals(0_100755, init.mode());
        assertTrue(init.text().startsWith("#!/bin/sh\n"));
        assertTrue(init.text().contains("\necho " + Initramfs.INIT_OK_MARKER + "\n"));

        NewcReader.Entry console = e.get("dev/console");
        assertEquals(FileType.CHARACTER_DEVICE, console.type());
        assertEquals(5, console.rdevMajor());
        assertEquals(1, console.rdevMinor());

        NewcReader.Entry busybox = e.get("bin/busybox");
        assertArrayEquals(fakeBusybox, busybox.data(), "the data goes with the last name");
        assertEquals(0_100755, busybox.mode());
        int names = Initramfs.BUSYBOX_APPLETS.size() + 1;
        assertEquals(names, busybox.links());
        for (String applet : List.of("sh", "mount", "echo", "cat", "poweroff", "reboot", "sync",
                "sha256sum", "dd", "nproc", "dmesg", "head", "ls", "mkdir", "grep", "hexdump", "od",
                "setsid", "cttyhack", "hwclock")) {
            NewcReader.Entry link = e.get("bin/" + applet);
            assertEquals(FileType.REGULAR, link.type(), applet);
            assertEquals(busybox.inode(), link.inode(), applet + " is a hard link to busybox");
            assertEquals(names, link.links(), applet);
            assertEquals(0, link.data().length, applet);
        }
        for (String dir : List.of("proc", "sys", "dev", "bin")) {
            assertEquals(FileType.DIRECTORY, e.get(dir).type(), dir);
        }
    }

    @Test
    void directoriesComeBeforeTheirContents(@TempDir Path tmp) throws IOException {
        List<String> names = NewcReader.read(busyboxArchive(Files.write(tmp.resolve("bb"), new byte[1])))
                .stream().map(NewcReader.Entry::name).toList();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            int slash = name.lastIndexOf('/');
            if (slash > 0) {
                assertTrue(names.subList(0, i).contains(name.substring(0, slash)), name);
            }
        }
    }

    @Test
    void initScriptIsValidShell(@TempDir Path tmp) throws Exception {
        Path sh = Path.of("/bin/sh");
        assumeTrue(Files.isExecutable(sh), "no /bin/sh");
        Path init = Files.writeString(tmp.resolve("init"), Initramfs.initScript());
        Process p = new ProcessBuilder(sh.toString(), "-n", init.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
    }

    @Test
    void deviceNumbersDecodeLikeGlibc() throws IOException {
        long dev = makedev(0x12345, 0xABCDEF);
        assertEquals(0x12345, Initramfs.major(dev));
        assertEquals(0xABCDEF, Initramfs.minor(dev));
        Path devNull = Path.of("/dev/null");
        assumeTrue(Files.exists(devNull));
        long rdev = (Long) Files.getAttribute(devNull, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
        assertEquals(1, Initramfs.major(rdev)); // devices.txt: char 1:3 is /dev/null
        assertEquals(3, Initramfs.minor(rdev));
    }

    /** glibc's gnu_dev_makedev. */
    private static long makedev(long major, long minor) {
        return ((major & 0xFFF) << 8) | ((major & ~0xFFFL) << 32) | (minor & 0xFF) | ((minor & ~0xFFL) << 12);
    }

    private static Path sampleTree(Path root) throws IOException {
        Files.createDirectories(root.resolve("etc/conf.d"));
        Files.writeString(root.resolve("etc/hostname"), "guest\n");
        Files.write(root.resolve("etc/conf.d/empty"), new byte[0]);
        Files.writeString(root.resolve("run.sh"), "#!/bin/sh\necho run\n");
        Files.setPosixFilePermissions(root.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.setPosixFilePermissions(root.resolve("etc/hostname"), PosixFilePermissions.fromString("rw-------"));
        Files.createSymbolicLink(root.resolve("hostname"), Path.of("etc/hostname"));
        return root;
    }

    @Test
    void directoryIsPackedWithModesAndLinks(@TempDir Path tmp) throws IOException {
        Path root = sampleTree(tmp.resolve("root"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Initramfs.fromDirectory(root, out);
        List<NewcReader.Entry> entries = NewcReader.read(out.toByteArray());
        assertEquals(List.of("etc", "etc/conf.d", "etc/conf.d/empty", "etc/hostname", "hostname", "run.sh",
                "TRAILER!!!"), entries.stream().map(NewcReader.Entry::name).toList());
        Map<String, NewcReader.Entry> e = byName(out.toByteArray());
        assertEquals(0_100600, e.get("etc/hostname").mode());
        assertEquals("guest\n", e.get("etc/hostname").text());
        assertEquals(0_100750, e.get("run.sh").mode());
        assertEquals(FileType.SYMLINK, e.get("hostname").type());
        assertEquals("etc/hostname", e.get("hostname").text());
        assertEquals(FileType.DIRECTORY, e.get("etc/conf.d").type());
    }

    @Test
    void gnuCpioExtractsWhatWeWrite(@TempDir Path tmp) throws Exception {
        Optional<Path> cpio = onPath("cpio");
        assumeTrue(cpio.isPresent(), "cpio not installed (apt-get install cpio)");
        Path root = sampleTree(tmp.resolve("root"));
        Path archive = tmp.resolve("root.cpio");
        try (var out = Files.newOutputStream(archive)) {
            Initramfs.fromDirectory(root, out);
        }
        Path extracted = Files.createDirectory(tmp.resolve("extracted"));
        Process p = new ProcessBuilder(cpio.get().toString(), "-idmv", "--quiet", "--no-absolute-filenames")
                .directory(extracted.toFile()).redirectInput(archive.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log);

        assertEquals(relativeTree(root), relativeTree(extracted));
        for (Path original : relativeTree(root)) {
            Path copy = extracted.resolve(original.toString());
            Path src = root.resolve(original.toString());
            assertEquals(Files.getAttribute(src, "unix:mode", LinkOption.NOFOLLOW_LINKS),
                    Files.getAttribute(copy, "unix:mode", LinkOption.NOFOLLOW_LINKS), original.toString());
            if (Files.isSymbolicLink(src)) {
                assertEquals(Files.readSymbolicLink(src), Files.readSymbolicLink(copy));
            } else if (Files.isRegularFile(src)) {
                assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(copy), original.toString());
            }
        }
    }

    @Test
    void realBusyboxInitramfsExtractsAndRuns(@TempDir Path tmp) throws Exception {
        Optional<Path> busybox = GuestCache.fromEnvironment().busybox();
        Optional<Path> cpio = onPath("cpio");
        assumeTrue(busybox.isPresent(), "run guests/linux/fetch-busybox.sh first");
        assumeTrue(cpio.isPresent(), "cpio not installed");
        Path archive = Files.write(tmp.resolve("initramfs.cpio"), busyboxArchive(busybox.get()));
        Path extracted = Files.createDirectory(tmp.resolve("x"));
        Process x = new ProcessBuilder(cpio.get().toString(), "-id", "--quiet").directory(extracted.toFile())
                .redirectInput(archive.toFile()).redirectErrorStream(true).start();
        assertEquals(0, x.waitFor(), new String(x.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        // The applet, a hard link, is the real static busybox, which runs on the host too.
        Process sh = new ProcessBuilder(extracted.resolve("bin/sh").toString(), "-c", "echo $((6*7))")
                .redirectErrorStream(true).start();
        assertEquals("42\n", new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(0, sh.waitFor());
    }

    private static List<Path> relativeTree(Path root) throws IOException {
        List<Path> paths = new ArrayList<>();
        try (var walk = Files.walk(root)) {
            walk.filter(p -> !p.equals(root)).map(root::relativize).sorted().forEach(paths::add);
        }
        return paths;
    }

    private static Optional<Path> onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }
}
