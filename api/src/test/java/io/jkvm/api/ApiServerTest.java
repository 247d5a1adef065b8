package io.jkvm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jkvm.api.ApiClient.Reply;
import io.jkvm.boot.Version;
import io.jkvm.boot.loader.TestImages;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.machine.VsockSpec;
import io.jkvm.devices.virtio.net.MacAddress;
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
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

    private static String iface(String id, String tap, String extra) {
        return "{\"iface_id\": \"" + id + "\", \"host_dev_name\": \"" + tap + "\"" + extra + "}";
    }

    /** The nets and vsock InstanceStart would give the machine now. */
    private MachineConfig configToStart() throws Exception {
        assertNoContent(client.send("PUT", "/boot-source", "{\"kernel_image_path\": \"" + kernel() + "\"}"));
        return vmm.configToStart();
    }

    @Test
    void networkInterfacesBecomeTheMachinesNetsInOrderAndAPutWithTheSameIdReplaces() throws Exception {
        assertNoContent(client.send("PUT", "/network-interfaces/eth0", iface("eth0", "tap0", ", \"guest_mac\": \"02:00:00:00:00:01\"")));
        assertNoContent(client.send("PUT", "/network-interfaces/eth1", iface("eth1", "tap1", "")));
        assertNoContent(client.send("PUT", "/network-interfaces/eth0", iface("eth0", "tap9", ", \"guest_mac\": \"02:00:00:00:00:09\","
                + " \"mtu\": 9000"))); // replaces eth0, which stays first
        assertEquals(List.of(new NetSpec("tap9", Optional.of(MacAddress.parse("02:00:00:00:00:09")), OptionalInt.of(9000), Optional.of("eth0")),
                        new NetSpec("tap1", Optional.empty(), OptionalInt.empty(), Optional.of("eth1"))),
                configToStart().nets());
        // eth0 gave tap0 and its MAC up when it was replaced: another interface may take them
        assertNoContent(client.send("PUT", "/network-interfaces/eth2", iface("eth2", "tap0", ", \"guest_mac\": \"02:00:00:00:00:01\"")));
        assertEquals(List.of("tap9", "tap1", "tap0"), vmm.configToStart().nets().stream().map(NetSpec::tap).toList());
        assertEquals(Optional.empty(), vmm.configToStart().vsock());
    }

    static Stream<Arguments> badNetworkInterfaces() {
        String mac = ", \"guest_mac\": \"02:00:00:00:00:01\"";
        return Stream.of(
                Arguments.of("eth1", iface("eth2", "tapX", ""), "does not match the id from the body"),
                Arguments.of("eth1", "{\"iface_id\": \"eth1\"}", "host_dev_name"),
                Arguments.of("eth1", "{\"host_dev_name\": \"tapX\"}", "iface_id"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"colour\": \"red\""), "colour"),
                Arguments.of("eth.1", iface("eth.1", "tapX", ""), "iface_id: API resource IDs are"),
                Arguments.of("eth1", iface("eth1", "tap-name-far-too-long", ""), "host_dev_name: tap name must be 1-15"),
                Arguments.of("eth1", iface("eth1", "", ""), "host_dev_name: tap name"),
                Arguments.of("eth1", iface("eth1", "a/b", ""), "host_dev_name: tap name"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"guest_mac\": \"02:00:00:00:00\""), "guest_mac: MAC must be six hex octets"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"guest_mac\": \"02:00:00:00:00:zz\""), "guest_mac: MAC must be six hex octets"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"guest_mac\": \"01:00:5e:00:00:01\""), "guest_mac: MAC 01:00:5e:00:00:01 is a multicast"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"guest_mac\": 7"), "guest_mac"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"mtu\": 67"), "mtu: mtu must be 68-65535, not 67"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"rx_rate_limiter\": {\"ops\": {\"size\": 1}}"), "rate limiters"),
                Arguments.of("eth1", iface("eth1", "tapX", ", \"tx_rate_limiter\": {}"), "rate limiters"),
                Arguments.of("eth1", iface("eth1", "tap0", ""), "host_dev_name: the TAP tap0 is already in use by network interface eth0"),
                Arguments.of("eth1", iface("eth1", "tapX", mac), "guest_mac: the MAC address 02:00:00:00:00:01 is already in use by network interface eth0"),
                Arguments.of("eth0", iface("eth0", "tap0", ", \"mtu\": 70000"), "mtu"));
    }

    @ParameterizedTest
    @MethodSource("badNetworkInterfaces")
    void badNetworkInterfaceIsRefusedAndChangesNothing(String pathId, String body, String expected) throws Exception {
        NetSpec eth0 = new NetSpec("tap0", Optional.of(MacAddress.parse("02:00:00:00:00:01")), OptionalInt.empty(), Optional.of("eth0"));
        assertNoContent(client.send("PUT", "/network-interfaces/eth0", iface("eth0", "tap0", ", \"guest_mac\": \"02:00:00:00:00:01\"")));
        assertFault(client.send("PUT", "/network-interfaces/" + pathId, body), expected);
        assertEquals(List.of(eth0), configToStart().nets());
    }

    @Test
    void vsockBecomesTheMachinesVsockAndASecondPutReplacesIt() throws Exception {
        Path first = dir.resolve("v.sock"), second = dir.resolve("w.sock");
        assertNoContent(client.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" + first + "\"}"));
        assertEquals(Optional.of(new VsockSpec(3, first)), configToStart().vsock());
        assertNoContent(client.send("PUT", "/vsock", "{\"vsock_id\": \"vsock0\", \"guest_cid\": 4294967294, \"uds_path\": \"" + second + "\"}"));
        assertEquals(Optional.of(new VsockSpec(4294967294L, second)), vmm.configToStart().vsock());
        assertEquals(List.of(), vmm.configToStart().nets());
        assertFalse(Files.exists(second), "the socket is bound at InstanceStart, not before");
    }

    @Test
    void aStaleSocketFileIsAcceptedAsTheVsockPath() throws Exception {
        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(stale)).close(); // leaves the file
        assertTrue(Files.exists(stale));
        assertNoContent(client.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" + stale + "\"}"));
        assertEquals(Optional.of(new VsockSpec(3, stale)), configToStart().vsock());
    }

    static Stream<Arguments> badVsocks() {
        return Stream.of(
                Arguments.of("{\"guest_cid\": 3}", "uds_path"),
                Arguments.of("{\"uds_path\": \"/tmp/x.sock\"}", "guest_cid"),
                Arguments.of("{\"guest_cid\": \"3\", \"uds_path\": \"/tmp/x.sock\"}", "guest_cid"),
                Arguments.of("{\"guest_cid\": 3, \"uds_path\": \"/tmp/x.sock\", \"colour\": 1}", "colour"),
                Arguments.of("{\"guest_cid\": 2, \"uds_path\": \"/tmp/x.sock\"}", "guest_cid: cid must be 3 to 4294967294, not 2"),
                Arguments.of("{\"guest_cid\": 0, \"uds_path\": \"/tmp/x.sock\"}", "guest_cid: cid must be 3"),
                Arguments.of("{\"guest_cid\": -5, \"uds_path\": \"/tmp/x.sock\"}", "guest_cid: cid must be 3"),
                Arguments.of("{\"guest_cid\": 4294967295, \"uds_path\": \"/tmp/x.sock\"}", "guest_cid: cid must be 3"),
                Arguments.of("{\"guest_cid\": 3, \"uds_path\": \"\"}", "uds_path: uds must not be empty"),
                Arguments.of("{\"guest_cid\": 3, \"uds_path\": \"/tmp/" + "x".repeat(120) + "\"}", "uds_path: uds is 125 bytes, more than a Unix socket's 107"),
                Arguments.of("{\"guest_cid\": 3, \"uds_path\": \"/a\\u0000b\"}", "uds_path is not a path"),
                Arguments.of("{\"guest_cid\": 3, \"uds_path\": \"/no/such/dir/v.sock\"}", "uds_path: the directory of /no/such/dir/v.sock does not exist"));
    }

    @ParameterizedTest
    @MethodSource("badVsocks")
    void badVsockIsRefusedAndChangesNothing(String body, String expected) throws Exception {
        Path uds = dir.resolve("v.sock");
        assertNoContent(client.send("PUT", "/vsock", "{\"guest_cid\": 7, \"uds_path\": \"" + uds + "\"}"));
        assertFault(client.send("PUT", "/vsock", body), expected);
        assertEquals(Optional.of(new VsockSpec(7, uds)), configToStart().vsock());
    }

    @Test
    void aVsockPathThatIsNotAFreeSocketIsRefused() throws Exception {
        assertFault(client.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" + file("disk.img") + "\"}"),
                "exists and is not a socket");
        assertFault(client.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" + dir + "\"}"), "exists and is not a socket");
        assertFault(client.send("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"" + server.socket() + "\"}"),
                "is in use: something listens on it");
        assertEquals(Optional.empty(), configToStart().vsock());
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
        assertTrue(lines.get(0).matches("\\{\"utc_timestamp_ms\":\\d+,\"vcpus\":\\[],\"devices\":\\{}}"), lines.get(0));
        Reply now = client.send("GET", "/metrics", null); // jkvm's: the same counts, for jkvm info
        assertEquals(200, now.status(), now.body());
        assertTrue(now.body().matches("\\{\"utc_timestamp_ms\":\\d+,\"vcpus\":\\[],\"devices\":\\{}}"), now.body());
        assertEquals(1, Files.readAllLines(file).size(), "GET /metrics writes no line");
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
