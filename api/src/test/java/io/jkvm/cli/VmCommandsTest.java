package io.jkvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.api.RuntimeRegistry;
import io.jkvm.api.VmmController;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jkvm list|pause|resume|info|stop} and {@code jkvm api} without KVM: VMs that are not started, in
 * this JVM (a {@link ControlPlane} around a controller) or as a real {@code jkvm api} process. The tests run
 * with their own runtime directory (XDG_RUNTIME_DIR, set by the api module's pom).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmCommandsTest {
    @TempDir Path dir;

    private record Result(int code, String out, String err) {}

    private static Result jkvm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void listInfoAndPauseOfAVmThatIsNotStarted() {
        VmmController vmm = new VmmController("cli-test", b -> { });
        try (ControlPlane plane = ControlPlane.open(RuntimeRegistry.fromEnvironment(), "cli-test", dir.resolve("api.sock"), vmm)) {
            Result list = jkvm("list");
            assertEquals(0, list.code(), list.err());
            List<String> lines = list.out().lines().toList();
            assertTrue(lines.get(0).matches("ID +STATE +VCPUS +MEMORY +UPTIME +PID +API SOCKET"), lines.get(0));
            String row = lines.stream().filter(l -> l.startsWith("cli-test ")).findFirst().orElseThrow(() -> new AssertionError(list.out()));
            assertTrue(row.matches("cli-test +Not started +1 +128M +\\d+s +" + ProcessHandle.current().pid() + " +"
                    + dir.resolve("api.sock").toString().replace(".", "\\.")), row);

            Result info = jkvm("info", "cli-test");
            assertEquals(0, info.code(), info.err());
            assertTrue(info.out().contains("\"instance\":{\"id\":\"cli-test\",\"state\":\"Not started\""), info.out());
            assertTrue(info.out().contains("\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":128"), info.out());
            assertTrue(info.out().matches("(?s).*\"metrics\":\\{\"utc_timestamp_ms\":\\d+,\"vcpus\":\\[],\"devices\":\\{}}.*"), info.out());

            Result pause = jkvm("pause", "cli-test");
            assertEquals(ExitCode.BAD_INPUT, pause.code());
            assertEquals("jkvm: " + VmmController.NOT_BEFORE_START, pause.err().strip());

            Result snapshot = jkvm("snapshot", "cli-test", "--state", dir.resolve("s").toString(), "--memory", dir.resolve("m").toString());
            assertEquals(ExitCode.BAD_INPUT, snapshot.code());
            assertEquals("jkvm: " + VmmController.NOT_BEFORE_START, snapshot.err().strip());
        }
        assertFalse(jkvm("list").out().contains("cli-test"), "the registry entry is removed at close");
        assertFalse(Files.exists(dir.resolve("api.sock")), "the socket is removed at close");
    }

    @Test
    void unknownIdsAndBadOptionsAreOneLineAndExitCode2() {
        for (String[] args : List.of(new String[] {"pause", "nobody"}, new String[] {"resume", "nobody"},
                new String[] {"info", "nobody"}, new String[] {"stop", "nobody"}, new String[] {"pause"},
                new String[] {"api", "--api-sock", dir.resolve("s").toString(), "--id", "bad id"})) {
            Result r = jkvm(args);
            assertEquals(ExitCode.BAD_INPUT, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("jkvm: "), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
    }

    /** A real {@code jkvm api} process: a second one with its id is refused; stop ends it (hard stop: not started). */
    @Test
    void apiProcessIsListedRefusesItsIdTwiceAndStopEndsIt() throws Exception {
        Path socket = dir.resolve("proc.sock");
        Process vmm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "api", "--api-sock", socket.toString(), "--id", "proc-test").redirectErrorStream(true).start();
        try (BufferedReader log = new BufferedReader(new InputStreamReader(vmm.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("jkvm: VM proc-test, API on " + socket, log.readLine());

            Result second = jkvm("api", "--api-sock", dir.resolve("other.sock").toString(), "--id", "proc-test");
            assertEquals(ExitCode.BAD_INPUT, second.code());
            assertTrue(second.err().startsWith("jkvm: --id proc-test is in use by pid " + vmm.pid()), second.err());
            assertTrue(jkvm("list").out().contains("proc-test"));

            Result stop = jkvm("stop", "proc-test", "--timeout", "1");
            assertEquals(0, stop.code(), stop.err());
            assertTrue(stop.out().startsWith("proc-test stopped (hard stop: SIGTERM)"), stop.out() + stop.err());
            assertTrue(vmm.waitFor(Duration.ofSeconds(10).toSeconds(), TimeUnit.SECONDS));
            assertFalse(Files.exists(socket), "the shutdown hook removed the socket");
            assertFalse(jkvm("list").out().contains("proc-test"), "and the registry entry");
        } finally {
            vmm.destroyForcibly();
        }
    }
}
