package io.jkvm.boot.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ACPICA's iasl as the judge: each generated table is disassembled ({@code iasl -d}) and the result compiled
 * again; any error, warning or complaint (such as "Incorrect checksum") fails the test, and the recompiled
 * table must equal ours byte for byte (except the checksum and Creator ID/Revision, which iasl sets to its
 * own). The RSDP, which this iasl cannot disassemble, is compiled from its fields and compared whole.
 * Without iasl on PATH (Debian: acpica-tools) the test is skipped, unless JKVM_REQUIRE_TOOLS=1.
 */
class IaslTest {
    private static final Pattern COMPLAINT =
            Pattern.compile("error|warning|incorrect|invalid|unknown|\\*\\*\\*\\*", Pattern.CASE_INSENSITIVE);
    private static final Pattern CLEAN_COMPILE = Pattern.compile("Compilation successful\\. 0 Errors, 0 Warnings");
    /** Header bytes iasl rewrites when compiling: Checksum (9), Creator ID and Revision (28-35). */
    private static final int CHECKSUM = 9, CREATOR_ID = 28, HEADER_END = 36;

    @TempDir
    Path dir;

    @BeforeEach
    void requireIasl() {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "iasl")));
        if (found) return;
        String why = "iasl not found on PATH (install Debian's acpica-tools)";
        if ("1".equals(System.getenv("JKVM_REQUIRE_TOOLS"))) fail("JKVM_REQUIRE_TOOLS=1 but " + why);
        Assumptions.abort("ACPI iasl test skipped: " + why);
    }

    static Stream<Arguments> platforms() {
        return Stream.of(
                Arguments.of("1 CPU, no virtio", AcpiPlatform.of(1, List.of(), 0x600)),
                Arguments.of("2 CPUs, 1 virtio", AcpiPlatform.of(2, AcpiImage.virtioDevices(1), 0x600)),
                Arguments.of("4 CPUs, 3 virtio", AcpiPlatform.of(4, AcpiImage.virtioDevices(3), 0x600)),
                Arguments.of("overrides, 8042, RTC", new AcpiPlatform(2, AcpiImage.virtioDevices(2), 0x600,
                        List.of(InterruptSourceOverride.pitOnGsi2()), false, true, true, PmProfile.ENTERPRISE_SERVER)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("platforms")
    void everyTableDisassemblesAndRecompilesCleanly(String description, AcpiPlatform platform) throws Exception {
        AcpiImage img = AcpiImage.write(platform);
        for (Map.Entry<String, byte[]> t : img.tables.entrySet()) {
            String name = t.getKey().toLowerCase(Locale.ROOT);
            byte[] ours = t.getValue();
            Path dat = dir.resolve(name + ".dat");
            Files.write(dat, ours);

            String out = iasl("-d", dat.getFileName().toString());
            Path dsl = dir.resolve(name + ".dsl");
            assertTrue(Files.exists(dsl), name + ": no disassembly\n" + out);
            String listing = Files.readString(dsl, StandardCharsets.ISO_8859_1);
            assertNoComplaint(name + " (iasl -d output)", out);
            assertNoComplaint(name + " (disassembly)", listing);

            // -oa: no AML optimisations, so the DSDT's "\_SB" and "\_S5" keep their root prefix as we wrote them.
            String compile = iasl("-oa", "-p", name + "-rt", dsl.getFileName().toString());
            assertTrue(CLEAN_COMPILE.matcher(compile).find(), name + ": recompiling the disassembly\n" + compile);
            byte[] theirs = Files.readAllBytes(dir.resolve(name + "-rt.aml"));
            assertEquals(ours.length, theirs.length, name + " length\n" + listing);
            for (byte[] b : List.of(ours, theirs)) {
                b[CHECKSUM] = 0;
                Arrays.fill(b, CREATOR_ID, HEADER_END, (byte) 0);
            }
            assertArrayEquals(ours, theirs, name + " differs from iasl's compilation of its disassembly\n" + listing);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("platforms")
    void rsdpEqualsWhatIaslCompilesFromItsFields(String description, AcpiPlatform platform) throws Exception {
        AcpiImage img = AcpiImage.write(platform);
        // iasl's data table syntax for the RSDP (as "iasl -T RSDP" writes it); iasl computes both checksums.
        String asl = String.join("\n",
                "[0008]                          Signature : \"RSD PTR \"",
                "[0001]                           Checksum : 00",
                "[0006]                             Oem ID : \"JKVM  \"",
                "[0001]                           Revision : 02",
                "[0004]                       RSDT Address : 00000000",
                "[0004]                             Length : 00000024",
                String.format("[0008]                       XSDT Address : %016X", img.addresses.get("XSDT")),
                "[0001]                  Extended Checksum : 00",
                "[0003]                           Reserved : 000000", "");
        Files.writeString(dir.resolve("rsdp.asl"), asl);
        String compile = iasl("rsdp.asl");
        assertTrue(CLEAN_COMPILE.matcher(compile).find(), compile);
        assertArrayEquals(Files.readAllBytes(dir.resolve("rsdp.aml")), img.rsdp);
    }

    private static void assertNoComplaint(String what, String text) {
        List<String> bad = new ArrayList<>();
        for (String line : text.split("\n")) {
            // The banner and iasl's own field descriptions are not complaints.
            if (line.contains("Copyright") || line.contains("Compiler/Disassembler")) continue;
            if (COMPLAINT.matcher(line).find()) bad.add(line.trim());
        }
        assertEquals(List.of(), bad, what);
    }

    private String iasl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("iasl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("iasl timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + text);
        return text;
    }
}
