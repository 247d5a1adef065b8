package io.jkvm.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.loader.TestImages;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad input to {@code jkvm run} ends with exit code 2 and one line naming the problem, no
 * stack trace, before /dev/kvm is touched (so these run on machines without KVM too).
 */
class BadInputTest {
    @TempDir Path dir;

    /** Runs jkvm; asserts exit 2 and a single "jkvm: ..." line containing {@code expected}. */
    private void assertRejected(String expected, String... args) {
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        String text = err.toString().strip();
        assertEquals(ExitCode.BAD_INPUT, code, text);
        String first = text.lines().findFirst().orElse("");
        assertTrue(first.startsWith("jkvm: "), text);
        assertTrue(first.contains(expected), "expected '" + expected + "' in: " + text);
        assertFalse(text.contains("Exception") || text.contains("\tat "), "no stack trace: " + text);
    }

    private Path file(String name, byte[] content) throws Exception {
        return Files.write(dir.resolve(name), content);
    }

    private Path goodKernel() throws Exception {
        return file("bzImage", new TestImages.BzImageBuilder().build());
    }

    @Test
    void randomBytes() throws Exception {
        byte[] junk = new byte[64 * 1024];
        new Random(1).nextBytes(junk);
        assertRejected("random.bin", "run", "--kernel", file("random.bin", junk).toString());
    }

    @Test
    void nonX86Elf() throws Exception {
        byte[] arm = TestImages.elf(0xb7 /* EM_AARCH64 */, 0x200000,
                TestImages.segs(new TestImages.Seg(0x200000, 0x200000, new byte[64], 64)), -1);
        assertRejected("arm.elf", "run", "--kernel", file("arm.elf", arm).toString());
    }

    @Test
    void truncatedBzImage() throws Exception {
        byte[] whole = new TestImages.BzImageBuilder().build();
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length / 2);
        assertRejected("cut.bzImage", "run", "--kernel", file("cut.bzImage", cut).toString());
    }

    @Test
    void protocolTooOld() throws Exception {
        TestImages.BzImageBuilder b = new TestImages.BzImageBuilder();
        b.version = 0x020a;
        assertRejected("old.bzImage", "run", "--kernel", file("old.bzImage", b.build()).toString());
    }

    @Test
    void initrdLargerThanMemory() throws Exception {
        Path initrd = dir.resolve("huge.cpio");
        try (RandomAccessFile f = new RandomAccessFile(initrd.toFile(), "rw")) {
            f.setLength(64L << 20); // sparse: costs no disk
        }
        assertRejected("initrd", "run", "--kernel", goodKernel().toString(), "--initrd", initrd.toString(), "--memory", "32M");
    }

    private void assertMemoryRejected(String expected, String size) throws Exception {
        assertRejected(expected, "run", "--kernel", goodKernel().toString(), "--memory", size);
    }

    @Test
    void traceFileThatCannotBeWritten() throws Exception {
        assertRejected("--trace-exits", "run", "--kernel", goodKernel().toString(), "--trace-exits",
                dir.resolve("no/such/dir/trace.txt").toString());
    }

    @Test
    void memoryTooSmallOrNotASize() throws Exception {
        assertMemoryRejected("minimum", "1M");
        assertMemoryRejected("not a size", "lots");
        assertMemoryRejected("not a size", "");
    }

    /**
     * More RAM than one KVM memory slot holds (KVM_MEM_MAX_NR_PAGES: 2^31 - 1 pages) or than this host has:
     * one line, not an mmap ENOMEM or a KVM_SET_USER_MEMORY_REGION EINVAL with a stack trace.
     */
    @Test
    void memoryBeyondKvmOrTheHost() throws Exception {
        assertMemoryRejected("KVM memory slot", "1000000G");
        assertMemoryRejected("KVM memory slot", "10000G");
        assertMemoryRejected("this host", "4000G");
    }

    /** A bzImage that is not relocatable, preferring to run at {@code prefAddress}. */
    private String nonRelocatableAt(String name, long prefAddress) throws Exception {
        TestImages.BzImageBuilder b = new TestImages.BzImageBuilder();
        b.relocatable = false;
        b.prefAddress = prefAddress;
        return file(name, b.build()).toString();
    }

    /** boot.rst: a kernel that is not relocatable runs at pref_address, which must be RAM above 1 MiB. */
    @Test
    void nonRelocatableKernelWithABadPrefAddress() throws Exception {
        assertRejected("pref_address", "run", "--kernel", nonRelocatableAt("low.bzImage", 0x1_0000));
        assertRejected("pref_address", "run", "--kernel", nonRelocatableAt("wraps.bzImage", 0xffff_ffff_ffff_f000L));
        // 4 GiB, beyond the default 256 MiB of RAM
        assertRejected("RAM", "run", "--kernel", nonRelocatableAt("high.bzImage", 0x1_0000_0000L));
    }

    @Test
    void cmdlineTooLong() throws Exception {
        assertRejected("command line", "run", "--kernel", goodKernel().toString(), "--cmdline", "x".repeat(5000));
    }

    @Test
    void missingFiles() throws Exception {
        assertRejected("nope", "run", "--kernel", dir.resolve("nope").toString());
        assertRejected("no-initrd", "run", "--kernel", goodKernel().toString(), "--initrd", dir.resolve("no-initrd").toString());
        assertRejected("no-disk.img", "run", "--kernel", goodKernel().toString(), "--disk", dir.resolve("no-disk.img").toString());
    }

    @Test
    void badCpuCountsAndOptions() throws Exception {
        String kernel = goodKernel().toString();
        assertRejected("--cpus", "run", "--kernel", kernel, "--cpus", "0");
        assertRejected("--cpus", "run", "--kernel", kernel, "--cpus", "-3");
        assertRejected("--cpus", "run", "--kernel", kernel, "--cpus", "two");
        assertRejected("--cpus 256 is above", "run", "--kernel", kernel, "--cpus", "256");
        assertRejected("--kernel", "run");
        assertRejected("--virtio-discovery", "run", "--kernel", kernel, "--virtio-discovery", "pci");
        assertRejected("unknown option", "run", "--kernel", kernel, "--disk", "a.img,rw");
    }

    @Test
    void badVsockDevices() throws Exception {
        String kernel = goodKernel().toString();
        assertRejected("cid must be 3", "run", "--kernel", kernel, "--vsock", "cid=2,uds=" + dir.resolve("v.sock"));
        assertRejected("needs cid=N and uds=PATH", "run", "--kernel", kernel, "--vsock", "cid=3");
        assertRejected("unknown option 'port=1'", "run", "--kernel", kernel, "--vsock", "cid=3,uds=x,port=1");
        Path notASocket = file("plain", new byte[1]);
        assertRejected("exists and is not a socket", "run", "--kernel", kernel, "--vsock", "cid=3,uds=" + notASocket);
    }

    @Test
    void execWithoutAVsockSocket() {
        assertRejected("no such vsock socket", "exec", "--vsock", dir.resolve("none.sock").toString(), "--", "true");
    }

    @Test
    void badNetValues() throws Exception {
        String kernel = goodKernel().toString();
        assertRejected("tap name", "run", "--kernel", kernel, "--net", "tap=");
        assertRejected("tap name", "run", "--kernel", kernel, "--net", "tap=a-name-far-too-long");
        assertRejected("needs tap=NAME", "run", "--kernel", kernel, "--net", "mac=02:00:00:00:00:01");
        assertRejected("multicast", "run", "--kernel", kernel, "--net", "tap=t0,mac=01:00:00:00:00:01");
        assertRejected("six hex octets", "run", "--kernel", kernel, "--net", "tap=t0,mac=02:00:00:00:00");
        assertRejected("mtu must be 68-65535", "run", "--kernel", kernel, "--net", "tap=t0,mtu=20");
        assertRejected("mtu must be a number", "run", "--kernel", kernel, "--net", "tap=t0,mtu=big");
        assertRejected("unknown option", "run", "--kernel", kernel, "--net", "tap=t0,speed=10G");
    }

    /**
     * An interface that is no TAP (loopback): where /dev/net/tun opens, TUNSETIFF refuses it; where it does
     * not (no permission, no tun module), that is the line. Either way one line naming the --net device.
     */
    @Test
    void netDeviceThatCannotBeAttached() throws Exception {
        assertRejected("--net lo: ", "run", "--kernel", goodKernel().toString(), "--net", "tap=lo");
    }

    @Test
    void restoreOptionsAreCheckedTogether() throws Exception {
        Path state = file("vm.state", new byte[64]), memory = file("vm.mem", new byte[4096]);
        assertRejected("--kernel is required (or --restore with --memory-file)", "run");
        assertRejected("--restore and --memory-file go together", "run", "--restore", state.toString());
        assertRejected("--restore and --memory-file go together", "run", "--memory-file", memory.toString());
        assertRejected("--paused goes with --restore", "run", "--kernel", goodKernel().toString(), "--paused");
        assertRejected("--kernel cannot be given with --restore", "run", "--restore", state.toString(),
                "--memory-file", memory.toString(), "--kernel", goodKernel().toString());
        assertRejected("--cpus cannot be given with --restore", "run", "--restore", state.toString(),
                "--memory-file", memory.toString(), "--cpus", "2");
        assertRejected("--restore: " + dir.resolve("none") + " is not a file", "run", "--restore", dir.resolve("none").toString(),
                "--memory-file", memory.toString());
        assertRejected("--memory-file: " + dir + " is not a file", "run", "--restore", state.toString(), "--memory-file", dir.toString());
    }

    @Test
    void snapshotNeedsBothFilesAndARunningVm() {
        assertRejected("--memory", "snapshot", "some-vm", "--state", "s");
        assertRejected("nobody", "snapshot", "nobody", "--state", "s", "--memory", "m");
    }

    @Test
    void badBootCacheUse() throws Exception {
        String kernel = goodKernel().toString();
        Path cache = dir.resolve("cache");
        assertRejected("--boot-cache: cannot create", "run", "--kernel", kernel,
                "--boot-cache=" + file("plain-file", new byte[1]).resolve("sub"));
        assertRejected("command through the console", "run", "--kernel", kernel, "--boot-cache=" + cache,
                "--cmdline", "console=ttyS0 -- echo " + "x".repeat(3100));
        assertRejected("nope", "run", "--kernel", dir.resolve("nope").toString(), "--boot-cache=" + cache);
    }
}
