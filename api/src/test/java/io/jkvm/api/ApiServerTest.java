package io.jkvm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.api.ApiClient.Reply;
import io.jkvm.boot.loader.TestImages;
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Firecracker's API over a real Unix socket with a real HTTP client, every error case of the issue: no KVM
 * is needed, as nothing here gets as far as /dev/kvm. After each refusal the configuration must be what
 * it was before (no half-applied request).
 */
class ApiServerTest {
    @TempDir static Path files;
    @TempDir Path dir;
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private VmmController vmm;
    private ApiServer server;
    private ApiClient client;

    @BeforeEach
    void serve() {
        vmm = new VmmController("test-vm", console::write);
        server = ApiServer.start(dir.resolve("api.sock"), vmm);
        client = new ApiClient(server.socket());
    }

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    private static String kernel() throws Exception {
        Path p = files.resolve("bzImage");
        if (!Files.exists(p)) Files.write(p, new TestImages.BzImageBuilder().build());
        return p.toString();
    }

    private static String file(String name) throws Exception {
        Path p = files.resolve(name);
        if (!Files.exists(p)) Files.write(p, new byte[4096]);
        return p.toString();
    }

    private void assertFault(Reply r, String expected) {
        assertEquals(400, r.status(), r.body());
        assertTrue(r.body().startsWith("{\"fault_message\":"), r.body());
        assertTrue(r.faultMessage().contains(expected), "expected '" + expected + "' in: " + r.faultMessage());
        assertFalse(r.faultMessage().contains("\n"), "one line: " + r.faultMessage());
    }

    private void assertNoContent(Reply r) {
        assertEquals(204, r.status(), r.body());
        assertEquals("", r.body());
    }

    @Test
    void describesTheInstanceAndVersion() {
        Reply r = client.send("GET", "/", null);
        assertEquals(200, r.status());
        assertEquals("{\"id\":\"test-vm\",\"state\":\"Not started\",\"vmm_version\":\"" + Version.jkvm()
                + "\",\"app_name\":\"jkvm\"}", r.body());
        assertEquals(Version.jkvm(), client.get("/version", ApiTypes.FirecrackerVersion.class).firecrackerVersion());
        assertTrue(Version.jkvm().matches("\\d+\\.\\d+\\.\\d+.*"), Version.jkvm());
    }

    @Test
    void machineConfigDefaultsPutAndGet() {
        assertEquals("{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false}",
                client.send("GET", "/machine-config", null).body());
        assertNoContent(client.send("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256}"));
        assertEquals("{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false,\"track_dirty_pages\":false}",
                client.send("GET", "/machine-config", null).body());
    }

    static Stream<Arguments> badMachineConfigs() {
        return Stream.of(
                Arguments.of("", "needs a JSON body"),
                Arguments.of("   ", "MachineConfiguration"),
                Arguments.of("not json", "MachineConfiguration"),
                Arguments.of("null", "not null"),
                Arguments.of("[1, 2]", "MachineConfiguration"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256", "MachineConfiguration"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256} {}", "MachineConfiguration"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"colour\": \"red\"}", "colour"),
                Arguments.of("{\"vcpu_count\": \"2\", \"mem_size_mib\": 256}", "vcpu_count"),
                Arguments.of("{\"vcpu_count\": 2.5, \"mem_size_mib\": 256}", "vcpu_count"),
                Arguments.of("{\"vcpu_count\": null, \"mem_size_mib\": 256}", "vcpu_count"),
                Arguments.of("{\"vcpu_count\": true, \"mem_size_mib\": 256}", "vcpu_count"),
                Arguments.of("{\"vcpu_count\": 99999999999, \"mem_size_mib\": 256}", "vcpu_count"),
                Arguments.of("{\"vcpu_count\": 2}", "mem_size_mib"),
                Arguments.of("{\"vcpu_count\": 0, \"mem_size_mib\": 256}", "vcpu_count must be 1 to 32"),
                Arguments.of("{\"vcpu_count\": 33, \"mem_size_mib\": 256}", "vcpu_count must be 1 to 32"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 0}", "mem_size_mib"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": true}", "SMT"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": \"yes\"}", "smt"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"track_dirty_pages\": true}", "dirty"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"cpu_template\": \"T2\"}", "cpu_template"),
                Arguments.of("{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"huge_pages\": \"2M\"}", "huge_pages"));
    }

    @ParameterizedTest
    @MethodSource("badMachineConfigs")
    void badMachineConfigIsRefusedAndChangesNothing(String body, String expected) {
        assertNoContent(client.send("PUT", "/machine-config", "{\"vcpu_count\": 3, \"mem_size_mib\": 300}"));
        assertFault(client.send("PUT", "/machine-config", body), expected);
        assertEquals(new ApiTypes.MachineConfiguration(3, 300, false, false, null, null),
                client.get("/machine-config", ApiTypes.MachineConfiguration.class));
    }

    @Test
    void oversizedBodiesAreRefusedAndTheServerGoesOn() {
        String padding = " ".repeat(ApiHandler.MAX_BODY_BYTES);
        assertFault(client.send("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256}" + padding),
                "larger than the limit of 51200");
        assertEquals(200, client.send("GET", "/", null).status());
    }

    @Test
    void malformedHttpGetsA400FromJettyAndTheServerGoesOn() throws Exception {
        try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            raw.connect(UnixDomainSocketAddress.of(server.socket()));
            raw.write(ByteBuffer.wrap("NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer answer = ByteBuffer.allocate(256);
            raw.read(answer);
            String head = new String(answer.array(), 0, answer.position(), StandardCharsets.US_ASCII);
            assertTrue(head.startsWith("HTTP/1.1 400"), head);
        }
        assertEquals(200, client.send("GET", "/", null).status());
    }

    @Test
    void unknownRoutesAre400() {
        assertFault(client.send("GET", "/nothing", null), "Invalid request method and/or path: GET /nothing.");
        assertFault(client.send("DELETE", "/", null), "Invalid request method and/or path");
        assertFault(client.send("PUT", "/drives", "{}"), "Invalid request method and/or path");
        assertFault(client.send("PUT", "/drives/a/b", "{}"), "Invalid request method and/or path");
        assertFault(client.send("GET", "/boot-source", null), "Invalid request method and/or path");
    }

    @Test
    void bootSource() throws Exception {
        assertFault(client.send("PUT", "/boot-source", "{\"boot_args\": \"console=ttyS0\"}"), "kernel_image_path");
        assertFault(client.send("PUT", "/boot-source", "{\"kernel_image_path\": \"/no/such/kernel\"}"), "/no/such/kernel is not a readable file");
        assertFault(client.send("PUT", "/boot-source", "{\"kernel_image_path\": \"" + kernel() + "\", \"initrd_path\": \"/no/initrd\"}"),
                "initrd_path");
        assertFault(client.send("PUT", "/boot-source", "{\"kernel_image_path\": 7}"), "kernel_image_path");
        assertNoContent(client.send("PUT", "/boot-source", "{\"kernel_image_path\": \"" + kernel() + "\", \"boot_args\": \"console=ttyS0\"}"));
    }

    private String drive(String id, String extra) throws Exception {
        return "{\"drive_id\": \"" + id + "\", \"path_on_host\": \"" + file("disk.img") + "\", \"is_root_device\": false,"
                + " \"is_read_only\": true" + extra + "}";
    }

    @Test
    void drives() throws Exception {
        assertFault(client.send("PUT", "/drives/one", drive("two", "")), "does not match the id from the body");
        assertFault(client.send("PUT", "/drives/one", "{\"drive_id\": \"one\", \"path_on_host\": \"" + file("disk.img")
                + "\", \"is_root_device\": false}"), "is_read_only");
        assertFault(client.send("PUT", "/drives/one", "{\"drive_id\": \"one\", \"path_on_host\": \"/no/disk\","
                + " \"is_root_device\": false, \"is_read_only\": false}"), "/no/disk");
        assertFault(client.send("PUT", "/drives/one", drive("one", ", \"rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": 1}}")),
                "rate_limiter");
        assertFault(client.send("PUT", "/drives/one", drive("one", ", \"io_engine\": \"Async\"")), "io_engine");
        assertFault(client.send("PUT", "/drives/one", drive("one", ", \"cache_type\": \"Fast\"")), "cache_type");
        String longId = "x".repeat(21);
        assertFault(client.send("PUT", "/drives/" + longId, drive(longId, "")), "drive_id");
        assertNoContent(client.send("PUT", "/drives/rootfs", drive("rootfs", "").replace("\"is_root_device\": false", "\"is_root_device\": true")));
        assertFault(client.send("PUT", "/drives/other", drive("other", "").replace("\"is_root_device\": false", "\"is_root_device\": true")),
                "A root block device already exists: rootfs");
        assertNoContent(client.send("PUT", "/drives/data", drive("data", ", \"cache_type\": \"Writeback\", \"io_engine\": \"Sync\"")));
    }

    @Test
    void devicesJkvmDoesNotHaveYetAreRefusedClearly() {
        assertFault(client.send("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}"),
                "no network device");
        assertFault(client.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\"}"), "no vsock device");
        assertFault(client.send("PUT", "/vsock", "{\"guest_cid\": 3}"), "uds_path");
    }

    @Test
    void runtimeOperationsBeforeTheStart() {
        assertFault(client.send("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}"), VmmController.NOT_BEFORE_START);
        assertFault(client.send("PATCH", "/vm", "{\"state\": \"Paused\"}"), VmmController.NOT_BEFORE_START);
        assertFault(client.send("PUT", "/actions", "{\"action_type\": \"Reboot\"}"), "action_type must be");
        assertFault(client.send("PUT", "/actions", "{}"), "action_type");
        assertFault(client.send("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), "without kernel configuration");
    }

    @Test
    void aStartThatFailsLeavesTheInstanceNotStarted() throws Exception {
        Path junk = Files.write(dir.resolve("junk.bin"), new byte[8192]);
        assertNoContent(client.send("PUT", "/boot-source", "{\"kernel_image_path\": \"" + junk + "\"}"));
        assertFault(client.send("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), "Cannot start the microVM: ");
        assertEquals("Not started", client.get("/", ApiTypes.InstanceInfo.class).state());
        assertNoContent(client.send("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}")); // still pre-boot
    }

    @Test
    void metrics() throws Exception {
        Path file = dir.resolve("metrics.json");
        assertFault(client.send("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}"), "not initialized");
        assertFault(client.send("PUT", "/metrics", "{}"), "metrics_path");
        assertFault(client.send("PUT", "/metrics", "{\"metrics_path\": \"" + dir.resolve("no/such/dir/m.json") + "\"}"), "cannot open");
        assertNoContent(client.send("PUT", "/metrics", "{\"metrics_path\": \"" + file + "\"}"));
        assertFault(client.send("PUT", "/metrics", "{\"metrics_path\": \"" + file + "\"}"), "Reinitialization of metrics not allowed.");
        assertNoContent(client.send("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}"));
        List<String> lines = Files.readAllLines(file);
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).matches("\\{\"utc_timestamp_ms\":\\d+,\"vcpus\":\\[]}"), lines.get(0));
    }

    @Test
    void logger() throws Exception {
        Path log = dir.resolve("jkvm.log");
        assertFault(client.send("PUT", "/logger", "{\"log_path\": \"" + log + "\", \"level\": \"Loud\"}"), "level must be one of");
        assertFault(client.send("PUT", "/logger", "{\"level\": \"Info\"}"), "log_path is required");
        assertNoContent(client.send("PUT", "/logger", "{\"log_path\": \"" + log + "\", \"level\": \"warning\", \"show_level\": true}"));
        System.getLogger("io.jkvm.test").log(System.Logger.Level.INFO, "not at warning level");
        System.getLogger("io.jkvm.test").log(System.Logger.Level.WARNING, "a warning for the log");
        String text = Files.readString(log);
        assertTrue(text.contains("[jkvm:test-vm:WARNING] a warning for the log"), text);
        assertFalse(text.contains("not at warning level"), text);
    }
}
