package io.jkvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the reading of a snapshot state: {@link StateFile#read} on a file of any bytes, and a
 * {@link StateReader} walking any body with a sequence of reads the input chooses (values, byte strings,
 * ranged counts, nested sections), as a restore of a device would. The first input byte picks the mode:
 * the rest is either the whole file, or a body that the harness wraps in a valid header (a fuzzer cannot
 * forge a CRC32C) followed by the read program. Invariants: only {@link SnapshotFormatException} escapes,
 * with a message; a file that reads is exactly what was written; no read allocates more than the input.
 * Committed inputs: {@code StateFileFuzzTestInputs/stateFile/}.
 */
class StateFileFuzzTest {
    /** The read operations of the program, one per value of an op byte modulo this. */
    private static final int OPS = 11;
    private static final int MAX_DEPTH = 4;
    private static Path dir;

    @BeforeAll
    static void setUp() throws IOException {
        dir = Files.createTempDirectory("jkvm-fuzz-statefile");
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (dir != null) try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.delete(p);
            Files.delete(dir);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void stateFile(FuzzedDataProvider in) throws IOException {
        Path file = dir.resolve("vm.state");
        byte[] body;
        byte[] program;
        if (in.consumeBoolean()) { // a valid file around a fuzzed body
            program = in.consumeBytes(in.consumeInt(0, 64));
            byte[] written = in.consumeRemainingAsBytes();
            StateFile.write(file, "fuzz", written);
            body = StateFile.read(file).body();
            assertArrayEquals(written, body, "the body read back differs from the one written");
        } else { // any file
            program = in.consumeBytes(in.consumeInt(0, 64));
            Files.write(file, in.consumeRemainingAsBytes());
            try {
                body = StateFile.read(file).body();
            } catch (SnapshotFormatException refused) {
                assertTrue(refused.getMessage() != null && refused.getMessage().contains(file.toString()), "no file in: " + refused);
                return;
            }
        }
        try {
            run(new StateReader(body), program, new int[] {0}, 0);
        } catch (SnapshotFormatException refused) {
            assertTrue(refused.getMessage() != null && !refused.getMessage().isBlank(), "a refusal without a message");
        }
    }

    /** Runs the read program from {@code pc[0]} until it ends or a section op returns to its caller. */
    private static void run(StateReader r, byte[] program, int[] pc, int depth) {
        while (pc[0] < program.length) {
            int op = Byte.toUnsignedInt(program[pc[0]++]) % OPS;
            switch (op) {
                case 0 -> r.u8();
                case 1 -> r.u16();
                case 2 -> r.u32();
                case 3 -> r.u64();
                case 4 -> r.bool();
                case 5 -> r.bytes();
                case 6 -> r.string();
                case 7 -> r.u32InRange("a count", 0, 64);
                case 8 -> r.bytes("a register", 16);
                case 9 -> {
                    if (depth == MAX_DEPTH) return;
                    r.section("dev" + depth, new Stateful() {
                        @Override
                        public void saveState(StateWriter out) {
                            throw new AssertionError("not saved here");
                        }

                        @Override
                        public void restoreState(StateReader nested) {
                            run(nested, program, pc, depth + 1);
                        }
                    });
                }
                case 10 -> {
                    if (r.atEnd()) return;
                }
                default -> throw new AssertionError(op);
            }
        }
    }
}
