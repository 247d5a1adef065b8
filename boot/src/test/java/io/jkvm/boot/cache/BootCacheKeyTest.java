package io.jkvm.boot.cache;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.loader.BootConfigException;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.boot.machine.NetSpec;
import io.jkvm.boot.machine.VsockSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootCacheKeyTest {
    @TempDir Path tmp;
    private Path kernel, initrd, disk;
    private MachineConfig base;

    @BeforeEach
    void inputs() throws IOException {
        kernel = Files.write(tmp.resolve("vmlinux"), new byte[] {1, 2, 3, 4});
        initrd = Files.write(tmp.resolve("initramfs.cpio"), new byte[] {5, 6, 7});
        disk = Files.write(tmp.resolve("disk.img"), new byte[4096]);
        base = MachineConfig.of(kernel, Optional.of(initrd), 256L << 20, 1).withForcedPvmQuirks(false)
                .withCmdline("console=ttyS0 quiet JKVM_COMMAND_FROM=console");
    }

    private BootCacheKey key(MachineConfig config) {
        return BootCacheKey.of(config);
    }

    @Test
    void theSameInputsGiveTheSameKey() {
        assertEquals(key(base), key(MachineConfig.of(kernel, Optional.of(initrd), 256L << 20, 1).withForcedPvmQuirks(false)
                .withCmdline("console=ttyS0 quiet JKVM_COMMAND_FROM=console")));
        assertTrue(BootCacheKey.isKey(key(base).hex()));
    }

    @Test
    void everyInputTheGuestSeesChangesTheKey() throws IOException {
        Path otherKernel = Files.write(tmp.resolve("other-kernel"), new byte[] {1, 2, 3, 5}); // same size, one byte off
        Path otherInitrd = Files.write(tmp.resolve("other-initrd"), new byte[] {5, 6, 8});
        Path bigger = Files.write(tmp.resolve("bigger.img"), new byte[8192]);
        MachineConfig withDisk = base.withDisks(List.of(DiskSpec.parse(disk + ",id=data")));
        Map<String, UnaryOperator<MachineConfig>> changes = Map.ofEntries(
                Map.entry("kernel bytes", c -> new MachineConfig(otherKernel, c.initrd(), c.cmdline(), c.memory(), c.cpus(),
                        c.disks(), c.nets(), c.rng(), c.discovery(), c.forcePvmQuirks(), c.vsock())),
                Map.entry("initrd bytes", c -> new MachineConfig(c.kernel(), Optional.of(otherInitrd), c.cmdline(), c.memory(),
                        c.cpus(), c.disks(), c.nets(), c.rng(), c.discovery(), c.forcePvmQuirks(), c.vsock())),
                Map.entry("no initrd", c -> new MachineConfig(c.kernel(), Optional.empty(), c.cmdline(), c.memory(),
                        c.cpus(), c.disks(), c.nets(), c.rng(), c.discovery(), c.forcePvmQuirks(), c.vsock())),
                Map.entry("cmdline", c -> c.withCmdline(c.cmdline() + " loglevel=7")),
                Map.entry("memory", c -> new MachineConfig(c.kernel(), c.initrd(), c.cmdline(), 512L << 20, c.cpus(),
                        c.disks(), c.nets(), c.rng(), c.discovery(), c.forcePvmQuirks(), c.vsock())),
                Map.entry("cpus", c -> new MachineConfig(c.kernel(), c.initrd(), c.cmdline(), c.memory(), 2,
                        c.disks(), c.nets(), c.rng(), c.discovery(), c.forcePvmQuirks(), c.vsock())),
                Map.entry("discovery", c -> c.withDiscovery(VirtioDiscovery.CMDLINE)),
                Map.entry("rng", c -> c.withRng(false)),
                Map.entry("pvm quirks", c -> c.withForcedPvmQuirks(true)),
                Map.entry("a disk", c -> withDisk),
                Map.entry("a disk's size", c -> c.withDisks(List.of(DiskSpec.parse(bigger + ",id=data")))),
                Map.entry("a disk's mode", c -> withDisk.withDisks(List.of(DiskSpec.parse(disk + ",readonly,id=data")))),
                Map.entry("a disk's serial", c -> withDisk.withDisks(List.of(DiskSpec.parse(disk + ",id=other")))),
                Map.entry("a network card", c -> c.withNets(List.of(NetSpec.parse("tap=tap0")))),
                Map.entry("its MAC", c -> c.withNets(List.of(NetSpec.parse("tap=tap0,mac=02:00:00:00:00:02")))),
                Map.entry("its MTU", c -> c.withNets(List.of(NetSpec.parse("tap=tap0,mtu=9000")))),
                Map.entry("a vsock", c -> c.withVsock(Optional.of(VsockSpec.parse("cid=3,uds=/tmp/a.sock")))),
                Map.entry("its CID", c -> c.withVsock(Optional.of(VsockSpec.parse("cid=4,uds=/tmp/a.sock")))));
        Set<BootCacheKey> keys = new HashSet<>(List.of(key(base)));
        for (var change : changes.entrySet())
            assertTrue(keys.add(key(change.getValue().apply(base))), change.getKey() + " must change the key");
    }

    @Test
    void hostSideNamesTheGuestNeverSeesDoNot() {
        assertEquals(key(base.withNets(List.of(NetSpec.parse("tap=tap0,mac=02:00:00:00:00:02")))),
                key(base.withNets(List.of(NetSpec.parse("tap=tap7,mac=02:00:00:00:00:02")))));
        assertEquals(key(base.withVsock(Optional.of(VsockSpec.parse("cid=3,uds=/tmp/a.sock")))),
                key(base.withVsock(Optional.of(VsockSpec.parse("cid=3,uds=/tmp/b.sock")))));
    }

    @Test
    void aMissingInputIsOneLineNamingIt() {
        MachineConfig missing = base.withDisks(List.of(DiskSpec.parse(tmp.resolve("gone.img").toString())));
        BootConfigException e = assertThrows(BootConfigException.class, () -> key(missing));
        assertEquals("boot cache: cannot read the disk " + tmp.resolve("gone.img") + " (no such file)", e.getMessage());
    }

    @Test
    void onlyHexNamesAreKeys() {
        assertFalse(BootCacheKey.isKey("tmp-123"));
        assertFalse(BootCacheKey.isKey("A".repeat(64)));
        assertThrows(IllegalArgumentException.class, () -> new BootCacheKey("../../etc"));
    }
}
