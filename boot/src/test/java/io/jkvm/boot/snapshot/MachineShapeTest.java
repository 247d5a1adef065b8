package io.jkvm.boot.snapshot;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.machine.VsockSpec;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MachineShapeTest {
    @TempDir Path dir;

    private MachineConfig config() throws IOException {
        Path root = Files.write(dir.resolve("root.ext4"), new byte[8192]);
        Path data = Files.write(dir.resolve("data.img"), new byte[4096]);
        return MachineConfig.of(dir.resolve("vmlinux"), Optional.of(dir.resolve("initrd.cpio")), 256L << 20, 2)
                .withCmdline("console=ttyS0 root=/dev/vda -- echo hi")
                .withDisks(List.of(DiskSpec.parse(root + ",id=rootfs"), DiskSpec.parse(data + ",readonly")))
                .withNets(List.of(NetSpec.parse("tap=tap0,mac=02:00:00:00:00:01,mtu=1400,id=eth0"), NetSpec.parse("tap=tap1")))
                .withRng(false)
                .withDiscovery(VirtioDiscovery.CMDLINE)
                .withVsock(Optional.of(VsockSpec.parse("cid=3,uds=" + dir.resolve("v.sock"))));
    }

    private static byte[] saved(MachineShape shape) {
        StateWriter out = new StateWriter();
        shape.write(out);
        return out.toByteArray();
    }

    private static MachineShape load(byte[] state) {
        StateReader in = new StateReader(state);
        MachineShape shape = MachineShape.read(in);
        assertTrue(in.atEnd());
        return shape;
    }

    @Test
    void roundTrip() throws IOException {
        MachineShape shape = MachineShape.of(config());
        assertEquals(List.of(8192L, 4096L), shape.diskSizes());
        assertEquals(shape, load(saved(shape)));
    }

    @Test
    void theDefaultMachineRoundTrips() {
        MachineShape shape = MachineShape.of(MachineConfig.of(Path.of("/k"), Optional.empty(), 128L << 20, 1));
        assertEquals(shape, load(saved(shape)));
    }

    @Test
    void unchangedDisksPass() throws IOException {
        MachineShape.of(config()).checkDisks();
    }

    @Test
    void aDiskOfAnotherSizeIsNamed() throws IOException {
        MachineShape shape = MachineShape.of(config());
        Path data = dir.resolve("data.img");
        Files.write(data, new byte[2 * 4096]);
        BootConfigException e = assertThrows(BootConfigException.class, shape::checkDisks);
        assertEquals("disk " + data + " was 4096 bytes at snapshot, is 8192 now", e.getMessage());
    }

    @Test
    void aMissingDiskIsNamed() throws IOException {
        MachineShape shape = MachineShape.of(config());
        Path root = dir.resolve("root.ext4");
        Files.delete(root);
        BootConfigException e = assertThrows(BootConfigException.class, shape::checkDisks);
        assertEquals("disk " + root + " is missing (it was 8192 bytes at snapshot)", e.getMessage());
    }

    @Test
    void withoutOverridesTheConfigIsTheSavedOne() throws IOException {
        MachineConfig config = config();
        assertEquals(config, MachineShape.of(config).toMachineConfig(RestoreOverrides.NONE));
    }

    @Test
    void overridesReplaceTapsByLabelAndTheVsockSocket() throws IOException {
        Path uds = dir.resolve("other.sock");
        MachineConfig restored = MachineShape.of(config())
                .toMachineConfig(new RestoreOverrides(Map.of("eth0", "tap9", "tap1", "tap8"), Optional.of(uds)));
        assertEquals("tap9", restored.nets().get(0).tap());
        assertEquals(config().nets().get(0).mac(), restored.nets().get(0).mac(), "the guest's MAC stays");
        assertEquals("tap8", restored.nets().get(1).tap());
        assertEquals(new VsockSpec(3, uds), restored.vsock().orElseThrow());
    }

    @Test
    void anOverrideOfAnUnknownInterfaceIsRefused() throws IOException {
        MachineShape shape = MachineShape.of(config());
        BootConfigException e = assertThrows(BootConfigException.class,
                () -> shape.toMachineConfig(new RestoreOverrides(Map.of("eth7", "tap7"), Optional.empty())));
        assertEquals("the snapshot has no network interface eth7 (it has: eth0, tap1)", e.getMessage());
    }

    @Test
    void aVsockOverrideWithoutVsockIsRefused() {
        MachineShape shape = MachineShape.of(MachineConfig.of(Path.of("/k"), Optional.empty(), 128L << 20, 1));
        assertThrows(BootConfigException.class,
                () -> shape.toMachineConfig(new RestoreOverrides(Map.of(), Optional.of(dir.resolve("x.sock")))));
    }

    @Test
    void everyTruncationIsAFormatError() throws IOException {
        byte[] state = saved(MachineShape.of(config()));
        for (int n = 0; n < state.length; n++) {
            byte[] cut = Arrays.copyOf(state, n);
            assertThrows(SnapshotFormatException.class, () -> MachineShape.read(new StateReader(cut)), "cut at " + n);
        }
    }

    /** A vCPU count of 0, an unknown discovery code, a TAP name with a slash: each refused as the command line would. */
    @Test
    void valuesTheCommandLineWouldRefuseAreFormatErrors() throws IOException {
        byte[] state = saved(MachineShape.of(config()));
        ByteBuffer buf = ByteBuffer.wrap(state).order(ByteOrder.LITTLE_ENDIAN);
        int at = indexOfLong(state, 256L << 20) + 8;
        assertEquals(2, buf.getInt(at));
        buf.putInt(at, 0);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> load(state));
        assertTrue(e.getMessage().contains("vCPU count is 0"), e.getMessage());
        buf.putInt(at, 2);
        buf.put(at + 4, (byte) 7); // the discovery code
        assertThrows(SnapshotFormatException.class, () -> load(state));
        buf.put(at + 4, (byte) 1);
        assertEquals(MachineShape.of(config()), load(state));

        byte[] tap = "tap0".getBytes();
        int tapAt = indexOf(state, tap);
        state[tapAt + 3] = '/';
        e = assertThrows(SnapshotFormatException.class, () -> load(state));
        assertTrue(e.getMessage().startsWith("network interface 0 in the snapshot is invalid"), e.getMessage());
    }

    private static int indexOfLong(byte[] state, long value) {
        byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
        return indexOf(state, bytes);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++)
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) return i;
        throw new AssertionError("not found");
    }
}
