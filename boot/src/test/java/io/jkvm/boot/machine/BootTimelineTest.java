package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jkvm.boot.machine.BootTimeline.Mark;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BootTimelineTest {
    /** Lines as a PVM boot printed them (../shared/pvm/2026-12-02/boot-bzImage-2cpu-own-initramfs.log). */
    private static final String CONSOLE = """
            [    0.000000] Linux version 6.1.192 (root@vm) #1 SMP
            [   15.397496] Unpacking initramfs...
            [   15.472482] clocksource: Switched to clocksource tsc
            some line without a printk time from the kernel
            [   27.905934] Freeing initrd memory: 1948K
            [   55.530785] Run /init as init process
            \r
            JKVM-INIT-OK\r
            sh: later output
            [   61.482968] reboot: Power down
            """;

    private static List<Mark> watch(String console) {
        BootTimeline timeline = new BootTimeline(Instant.EPOCH);
        ByteArrayOutputStream passedOn = new ByteArrayOutputStream();
        var sink = timeline.watching(passedOn::write);
        for (byte b : console.getBytes(StandardCharsets.US_ASCII)) sink.accept(b);
        assertEquals(console, passedOn.toString(StandardCharsets.US_ASCII), "every byte passed on");
        return timeline.marks();
    }

    @Test
    void marksKernelPhasesAndInitsFirstLine() {
        List<Mark> marks = watch(CONSOLE);
        assertEquals(List.of("JVM start", "first serial byte", "Unpacking initramfs", "Freeing initrd memory",
                "Run /init", "init's first line: JKVM-INIT-OK"), marks.stream().map(Mark::what).toList());
        assertEquals(Optional.of("15.397496"), marks.get(2).guestSeconds());
        assertEquals(Optional.of("55.530785"), marks.get(4).guestSeconds());
        assertEquals(Optional.empty(), marks.get(5).guestSeconds());
    }

    @Test
    void aQuietBootMarksInitsFirstLineAfterKernelErrors() {
        List<Mark> marks = watch("[    7.768752] PCI: Fatal: No config space access function found\nJKVM-INIT-OK\n");
        assertEquals(List.of("JVM start", "first serial byte", "init's first line: JKVM-INIT-OK"),
                marks.stream().map(Mark::what).toList());
    }

    @Test
    void formatsOneRowPerMark() {
        BootTimeline timeline = new BootTimeline(Instant.EPOCH);
        timeline.mark("VM created");
        String[] rows = timeline.format().split("\n");
        assertEquals(3, rows.length);
        assertEquals("JVM start", rows[1].substring(rows[1].lastIndexOf("  ") + 2));
        assertEquals("VM created", rows[2].substring(rows[2].lastIndexOf("  ") + 2));
    }
}
