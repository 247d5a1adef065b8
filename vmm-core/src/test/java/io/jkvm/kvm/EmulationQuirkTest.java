package io.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EmulationQuirkTest {
    @Test
    void int3InjectsBreakpoint() {
        assertEquals(EmulationQuirk.INJECT_BREAKPOINT, EmulationQuirk.forInstruction(15, 0xcc));
        assertEquals(3, EmulationQuirk.BREAKPOINT_VECTOR);
    }

    @Test
    void fwaitIsSkipped() {
        assertEquals(EmulationQuirk.SKIP_FWAIT, EmulationQuirk.forInstruction(15, 0x9b));
    }

    @Test
    void everythingElseIsUnhandled() {
        for (int b = 0; b < 256; b++) {
            if (b == 0xcc || b == 0x9b) continue;
            assertEquals(EmulationQuirk.UNHANDLED, EmulationQuirk.forInstruction(15, b), Integer.toHexString(b));
        }
        assertEquals(EmulationQuirk.UNHANDLED, EmulationQuirk.forInstruction(0xcd, 3 /* int $3 is two bytes */));
    }

    @Test
    void noInstructionBytesMeansUnhandled() {
        assertEquals(EmulationQuirk.UNHANDLED, EmulationQuirk.forInstruction(0, 0xcc));
    }
}
