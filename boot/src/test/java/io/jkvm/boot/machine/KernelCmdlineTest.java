package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class KernelCmdlineTest {
    @Test
    void machineItemsGoBeforeInitArguments() {
        assertEquals("console=ttyS0 noxsave -- echo hi", KernelCmdline.withKernelItems("console=ttyS0 -- echo hi", List.of("noxsave")));
        assertEquals("console=ttyS0 a b", KernelCmdline.withKernelItems("console=ttyS0", List.of("a", "b")));
        assertEquals("a --", KernelCmdline.withKernelItems("--", List.of("a")));
        assertEquals("a", KernelCmdline.withKernelItems("", List.of("a")));
        assertEquals("x -- y", KernelCmdline.withKernelItems("x -- y", List.of()));
    }

    @Test
    void pvmSwitchesCoverEveryInstructionPlatformMdNames() {
        String all = String.join(" ", PvmQuirks.KERNEL_SWITCHES);
        for (String s : List.of("noxsave", "nofsgsbase", "nopku")) assertTrue(all.contains(s), s);
        // cpufeatures.h numbers: CX16 141, PCID 145, POPCNT 151, RDRAND 158, INVPCID 298, RDSEED 306, SMAP 308, RDPID 534
        String clear = PvmQuirks.KERNEL_SWITCHES.stream().filter(x -> x.startsWith("clearcpuid=")).findFirst().orElseThrow();
        assertEquals(List.of("141", "145", "151", "158", "298", "306", "308", "534"),
                List.of(clear.substring("clearcpuid=".length()).split(",")));
    }
}
