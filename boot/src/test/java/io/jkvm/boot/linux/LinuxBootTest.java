package io.jkvm.boot.linux;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.boot.GuestArtifacts;
import io.jkvm.boot.initramfs.Initramfs;
import io.jkvm.boot.machine.DiskSpec;
import io.jkvm.boot.machine.Machine;
import io.jkvm.boot.machine.MachineConfig;
import io.jkvm.boot.machine.MachineConfig.VirtioDiscovery;
import io.jkvm.kvm.RunOutcome;
import io.jkvm.testing.KvmTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jkvm's minimal Linux kernel booted for real (slow on PVM: guest kernel code is emulated, see
 * ../shared/platform.md), so each boot serves many checks. The guest is driven through its serial
 * console with jkvm's default busybox initramfs.
 */
class LinuxBootTest {
    private static final Duration BOOT = Duration.ofMinutes(10);
    private static final Duration COMMAND = Duration.ofMinutes(2);
    /** dmesg lines that mean a device model or table of ours is wrong (issues 3 and 4). */
    private static final String BAD_DMESG = "too much work for irq|buggy|IO-APIC \\+ timer|MTRR|TSC.*error"
            + "|ACPI Error|ACPI BIOS Error|Firmware Bug|APIC.*(error|Error)";
    /**
     * TSCs found out of step between vCPUs: a fault of ours only when the guest sees a constant TSC. Without
     * it (CPUID 0x8000_0007 EDX bit 8, which KVM offers only when the host has it) Linux marks the TSC of any
     * multi-CPU non-Intel machine unstable by policy (arch/x86/kernel/tsc.c, unsynchronized_tsc).
     */
    private static final String TSC_UNSTABLE = "grep -qw constant_tsc /proc/cpuinfo && dmesg | grep 'TSC.*unstable'";

    /** ctime(3) text, e.g. "Wed Dec  2 04:31:07 2026". */
    private static final Pattern CTIME = Pattern.compile("([A-Z][a-z]{2} [A-Z][a-z]{2} +\\d{1,2} \\d{2}:\\d{2}:\\d{2} \\d{4})");
    private static final DateTimeFormatter CTIME_FORMAT = DateTimeFormatter.ofPattern("EEE MMM d HH:mm:ss yyyy", Locale.US);

    @TempDir Path tmp;
    private Path initramfs;

    @BeforeEach
    void initramfs() throws Exception {
        KvmTests.assumeKvm();
        initramfs = GuestArtifacts.defaultInitramfs(tmp.resolve("initramfs.cpio"), false);
    }

    private MachineConfig machine(Path kernel, int cpus) {
        return MachineConfig.of(kernel, Optional.of(initramfs), 256L << 20, cpus);
    }

    /** bzImage, 2 vCPUs, devices found through the DSDT: console, SMP, disks, entropy, poweroff. */
    @Test
    void bzImageWithAcpiDevicesDoesEverythingThenPowersOff() throws Exception {
        byte[] random = new byte[256 * 1024];
        new Random(42).nextBytes(random);
        Path content = Files.createDirectory(tmp.resolve("content"));
        Files.write(content.resolve("random.bin"), random);
        Path data = HostTools.ext4Image(tmp.resolve("data.img"), content, 32);
        Path frozen = tmp.resolve("frozen.img");
        Files.write(frozen, new byte[1 << 20]);
        byte[] frozenBefore = Files.readAllBytes(frozen);

        MachineConfig config = machine(GuestArtifacts.bzImage(), 2).withDisks(List.of(
                DiskSpec.parse(data + ",id=data"), DiskSpec.parse(frozen + ",readonly,id=frozen")));
        try (GuestSession guest = new GuestSession(config)) {
            guest.await(Initramfs.INIT_OK_MARKER, BOOT);
            assertTrue(guest.run("echo $((6*7))", COMMAND).contains("\n42"), "serial input round trip");
            assertTrue(guest.run("nproc", COMMAND).contains("\n2"), () -> "both vCPUs online:\n" + guest.log());
            assertTrue(guest.run("cat /sys/devices/system/cpu/online", COMMAND).contains("0-1"));
            assertCleanDmesg(guest);

            assertTrue(guest.run("cat /sys/block/vda/serial", COMMAND).contains("\ndata"), "GET_ID of the first disk");
            String sum = guest.run("mount /dev/vda /mnt && sha256sum /mnt/random.bin", COMMAND);
            assertTrue(sum.contains(sha256(random)), "guest read the host's file: " + sum);
            guest.run("echo jkvm-wrote-this > /mnt/new.txt && sync && umount /mnt", COMMAND);

            String ro = guest.run("dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>&1; echo rc=$?", COMMAND);
            assertFalse(ro.contains("rc=0"), "write to the read-only disk must fail: " + ro);

            String rng = guest.run("head -c 64 /dev/hwrng | wc -c", COMMAND);
            assertTrue(rng.contains("\n64"), "64 bytes from virtio-rng: " + rng);
            assertRtcShowsHostTime(guest);

            guest.type("poweroff -f\n");
            assertEquals(RunOutcome.POWEROFF, guest.awaitEnd(COMMAND));
        }
        assertTrue(HostTools.ext4Cat(data, "/new.txt").contains("jkvm-wrote-this"), "guest's write reached the image");
        assertArrayEquals(frozenBefore, Files.readAllBytes(frozen), "read-only image untouched");
    }

    /** The ELF vmlinux through its PVH entry, 4 vCPUs on a 2-core host, devices from the command line, reboot. */
    @Test
    void vmlinuxWithCmdlineDevicesAndFourCpusReboots() throws Exception {
        Path content = Files.createDirectory(tmp.resolve("content"));
        Files.writeString(content.resolve("hello.txt"), "hello from the host\n");
        Path data = HostTools.ext4Image(tmp.resolve("data.img"), content, 16);
        MachineConfig config = machine(GuestArtifacts.vmlinux(), 4)
                .withDisks(List.of(DiskSpec.parse(data.toString()))).withDiscovery(VirtioDiscovery.CMDLINE);
        try (GuestSession guest = new GuestSession(config)) {
            guest.await(Initramfs.INIT_OK_MARKER, BOOT);
            assertTrue(guest.run("nproc", COMMAND).contains("\n4"), () -> "four vCPUs online:\n" + guest.log());
            assertCleanDmesg(guest);
            String hello = guest.run("mount -o ro /dev/vda /mnt && cat /mnt/hello.txt", COMMAND);
            assertTrue(hello.contains("hello from the host"), () -> "the disk found through the command line:\n" + guest.log());
            assertRtcShowsHostTime(guest);
            guest.type("reboot -f\n");
            assertEquals(RunOutcome.RESET, guest.awaitEnd(COMMAND));
        }
    }

    /**
     * One vCPU with the PVM quirk set forced (on PVM it applies anyway): init still runs exactly the command
     * given after {@code --} although the quirk words reach init too, the quirks took effect, and the host
     * stops a halted, paused guest at once.
     */
    @Test
    void oneCpuWithPvmQuirksRunsInitCommandAndStopsPausedWithin100Ms() throws Exception {
        // The flags the quirk set takes away (CPUID mask for cx16, the kernel switches for the rest); "end"
        // is printed on the same line, so an empty list shows as "quirk-flags: end".
        String flags = "echo quirk-flags: $(grep -m1 ^flags /proc/cpuinfo | grep -owE 'xsave|cx16|popcnt|fsgsbase|pku|smap')"
                + " end; echo pvm-words: $(grep -c noxsave /proc/cmdline)";
        MachineConfig config = machine(GuestArtifacts.bzImage(), 1).withForcedPvmQuirks(true)
                .withCmdline(MachineConfig.DEFAULT_CMDLINE + " -- nproc; " + flags + "; sleep 100000");
        try (GuestSession guest = new GuestSession(config)) {
            guest.await(Initramfs.INIT_OK_MARKER, BOOT);
            guest.await("\n1\r\n", COMMAND); // nproc, run by init, printed 1 on a line of its own
            guest.await("quirk-flags:", COMMAND);
            assertEquals("end", guest.await("\r\n", COMMAND).strip(),
                    () -> "flags the PVM quirk set hides are still there:\n" + guest.log());
            guest.await("pvm-words: 1", COMMAND);
            Thread.sleep(2000); // the guest now idles in HLT
            guest.machine().resume(); // running: nothing to do
            guest.machine().pause();
            guest.machine().pause(); // paused: nothing to do
            assertEquals(Machine.State.PAUSED, guest.machine().state());
            long start = System.nanoTime();
            guest.machine().stop(); // a paused machine stops as a running one
            assertEquals(RunOutcome.STOPPED, guest.awaitEnd(Duration.ofSeconds(5)));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 100, "stop took " + millis + " ms");
        }
    }

    /**
     * The guest's RTC (rtc_cmos behind /dev/rtc0, read with busybox hwclock, which prints ctime's format)
     * shows the host's UTC time, to the second it has.
     */
    private static void assertRtcShowsHostTime(GuestSession guest) throws InterruptedException {
        String out = guest.run("ls /dev/rtc0 && hwclock -u -r", COMMAND);
        Instant host = Instant.now();
        Matcher m = CTIME.matcher(out);
        assertTrue(m.find(), () -> "no RTC time from hwclock:\n" + out + "\nconsole:\n" + guest.log());
        Instant rtc = LocalDateTime.parse(m.group(1).replaceAll(" +", " "), CTIME_FORMAT).toInstant(ZoneOffset.UTC);
        long apart = Math.abs(Duration.between(rtc, host).toMillis());
        assertTrue(apart <= 2000, "RTC " + rtc + " vs host " + host + ": " + apart + " ms apart");
    }

    private static void assertCleanDmesg(GuestSession guest) throws InterruptedException {
        // The sed prefix is split by quotes so the shell's echo of the typed line never matches "BAD:".
        String bad = guest.run("{ dmesg | grep -E '" + BAD_DMESG + "'; " + TSC_UNSTABLE + "; } | sed 's/^/BA''D: /'", COMMAND);
        assertFalse(bad.contains("BAD: "), "kernel log complains:\n" + bad);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
