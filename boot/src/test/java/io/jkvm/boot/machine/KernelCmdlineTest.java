package io.jkvm.boot.machine;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jkvm.boot.initramfs.Initramfs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelCmdlineTest {
    private static final String MARK = Initramfs.COMMAND_MARKER;

    @Test
    void machineItemsGoBeforeInitArgumentsAndTheMarkerBeforeTheCommand() {
        assertEquals("console=ttyS0 noxsave -- " + MARK + " echo hi",
                KernelCmdline.compose("console=ttyS0 -- echo hi", List.of("noxsave")));
        assertEquals("console=ttyS0 a b", KernelCmdline.compose("console=ttyS0", List.of("a", "b")));
        assertEquals("a --", KernelCmdline.compose("--", List.of("a")));
        assertEquals("a", KernelCmdline.compose("", List.of("a")));
        assertEquals("x -- " + MARK + " y", KernelCmdline.compose("x -- y", List.of()));
        assertEquals("x", KernelCmdline.compose(" x ", List.of()));
        assertEquals("x a -- " + MARK + " y", KernelCmdline.compose("x -- " + MARK + " y", List.of("a")), "marked already");
    }

    /**
     * The failure seen on PVM (../shared/pvm/2026-12-02): Linux passed {@code noxsave}, which it does not
     * consume, to init, and init ran it as the command. Here every word jkvm appends is taken as unconsumed,
     * the worst any kernel can do, and /init's own selection must still leave exactly the command.
     */
    @Test
    void appendedPvmWordsNeverBecomePartOfInitsCommand() throws Exception {
        String command = "echo $((6*7)); echo done";
        String cmdline = KernelCmdline.compose(MachineConfig.DEFAULT_CMDLINE + " -- " + command, PvmQuirks.KERNEL_SWITCHES);
        List<String> argv = initArguments(cmdline);
        assertTrue(argv.contains("noxsave"), "the model hands init the unconsumed words: " + argv);

        assertEquals(command, shell(Initramfs.commandSelection() + "printf %s \"$*\"", argv));
        assertEquals("42\ndone\n", shell(Initramfs.commandSelection() + "sh -c \"$*\"", argv));
    }

    @Test
    void withoutInitWordsInitGetsNoCommand() throws Exception {
        String cmdline = KernelCmdline.compose(MachineConfig.DEFAULT_CMDLINE, PvmQuirks.KERNEL_SWITCHES);
        assertEquals("0", shell(Initramfs.commandSelection() + "printf %s $#", initArguments(cmdline)));
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

    /** The QEMU comparisons (benchmarks/compare-lib.sh) give QEMU on PVM the switches jkvm appends there by itself. */
    @Test
    void guestCompareGivesQemuTheSameSwitches() throws Exception {
        Path script = Path.of("../benchmarks/compare-lib.sh");
        String line = Files.readAllLines(script).stream().filter(l -> l.startsWith("pvm_switches=")).findFirst()
                .orElseThrow(() -> new AssertionError("no pvm_switches= in " + script));
        assertEquals("pvm_switches=\"" + String.join(" ", PvmQuirks.KERNEL_SWITCHES) + "\"", line);
    }

    /**
     * init's argv as Linux builds it (init/main.c) when the kernel consumes none of the words before
     * {@code --}: unknown_bootoption passes words without {@code =} or {@code .} as arguments (those with
     * {@code =} become environment), then set_init_arg appends every word after {@code --}. Quoting is not
     * modelled: the words here have no quotes.
     */
    private static List<String> initArguments(String cmdline) {
        List<String> argv = new ArrayList<>();
        boolean afterDashes = false;
        for (String word : cmdline.strip().split(" +")) {
            if (afterDashes) argv.add(word);
            else if (word.equals("--")) afterDashes = true;
            else if (!word.contains("=") && !word.contains(".")) argv.add(word);
        }
        return argv;
    }

    /** Runs {@code script} with /bin/sh as init would run it, with {@code argv} as its arguments. */
    private static String shell(String script, List<String> argv) throws Exception {
        Path sh = Path.of("/bin/sh");
        assumeTrue(Files.isExecutable(sh), "no /bin/sh");
        List<String> command = new ArrayList<>(List.of(sh.toString(), "-c", script, "/init"));
        command.addAll(argv);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
