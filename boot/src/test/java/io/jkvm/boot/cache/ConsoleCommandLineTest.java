package io.jkvm.boot.cache;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jkvm.boot.initramfs.GuestCache;
import io.jkvm.boot.initramfs.Initramfs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The console line the host types and the part of /init that reads it, run under the host's /bin/sh and,
 * when the guest cache has it, under the guest's own busybox sh; {@code stty} and {@code date} (which would
 * change the host's terminal and clock) are shell functions that report their arguments.
 */
class ConsoleCommandLineTest {
    private static final Instant NOW = Instant.parse("2026-12-02T10:30:00.600Z");
    /** What a test command prints: the number of arguments /init has, then its command text. */
    private static final String SHOW = "printf '%s|%s' $# \"$1\"";

    @Test
    void theLineIsTheRoundedTimeAndTheCommandInBase64() {
        assertEquals("1796207401 ZWNobyBoaQ==\n", new String(ConsoleCommandLine.encode(NOW, "echo hi"), StandardCharsets.US_ASCII));
        assertEquals("1796207400 \n", new String(ConsoleCommandLine.encode(NOW.minusMillis(200), ""), StandardCharsets.US_ASCII));
    }

    @Test
    void aCommandTooLongForATerminalLineIsRefused() {
        assertEquals(ConsoleCommandLine.MAX_LINE + 1, ConsoleCommandLine.encode(NOW, "x".repeat(3063)).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConsoleCommandLine.encode(NOW, "x".repeat(3066)));
        assertTrue(e.getMessage().contains("3066 bytes of command"), e.getMessage());
    }

    @Test
    void initReadsAnyCommandAndSetsTheClock() throws Exception {
        for (Path sh : shells()) {
            String awkward = "echo 'a  b' \"$HOME\" \\\\ `x` ; printf '\\001\\n' | od -c # ü\u0003\u007f\r\ttab";
            assertEquals("date -s @1796207401\nstty -echo\nJKVM-READY\nstty echo\n1|" + awkward,
                    readCommand(sh, ConsoleCommandLine.encode(NOW, awkward)), sh.toString());
        }
    }

    @Test
    void anEmptyCommandLeavesNoArgumentSoInitStartsAShell() throws Exception {
        for (Path sh : shells())
            assertTrue(readCommand(sh, ConsoleCommandLine.encode(NOW, "")).endsWith("stty echo\n0|"), sh.toString());
    }

    @Test
    void withoutTheVariableInitReadsNothing() throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", Initramfs.commandFromConsole() + SHOW, "/init", "keep").start();
        p.getOutputStream().close();
        assertEquals("1|keep", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(0, p.waitFor());
    }

    /** Runs /init's console part with {@code line} on its stdin; returns the stub calls (date first: stderr) and what it left. */
    private static String readCommand(Path sh, byte[] line) throws Exception {
        String stubs = "stty() { echo stty \"$@\"; }\ndate() { echo date \"$@\" >&2; }\n";
        ProcessBuilder pb = new ProcessBuilder(sh.toString(), "-c", stubs + Initramfs.commandFromConsole() + SHOW, "/init");
        pb.environment().put(Initramfs.COMMAND_FROM_VARIABLE, Initramfs.COMMAND_FROM_CONSOLE);
        Process p = pb.start();
        p.getOutputStream().write(line);
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err + out);
        return err + out;
    }

    private static List<Path> shells() throws Exception {
        List<Path> shells = new ArrayList<>();
        if (Files.isExecutable(Path.of("/bin/sh"))) shells.add(Path.of("/bin/sh"));
        Optional<Path> busybox = GuestCache.fromEnvironment().busybox();
        if (busybox.isPresent()) {
            // busybox runs as the applet its name says; a link named sh in a directory of its own
            Path dir = Files.createTempDirectory("busybox-sh");
            dir.toFile().deleteOnExit();
            Path sh = Files.createSymbolicLink(dir.resolve("sh"), busybox.get());
            sh.toFile().deleteOnExit();
            shells.add(sh);
        }
        assumeTrue(!shells.isEmpty(), "no shell to run /init's lines with");
        return shells;
    }
}
