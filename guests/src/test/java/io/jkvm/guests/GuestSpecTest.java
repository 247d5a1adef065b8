package io.jkvm.guests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GuestSpecTest {
    private static final String HEAD = "mode=long64\nload=0x2000\nentry=0x2010\nmemory=0x400000\n";

    private static GuestSpec parse(String text) {
        return GuestSpec.parse("t", new StringReader(text));
    }

    @Test
    void parsesHaltingGuest() {
        GuestSpec s = parse(HEAD + "end=hlt\nserial=Hi\\n\\u00e9\nreg.rbx=0xffffffffffffffff\nreg.r12=7\n"
                + "mem16.0x3000=0xbeef\nmem8.0x10=0x1\ntest-device=0xd0000000\n");
        assertEquals(CpuMode.LONG64, s.mode());
        assertEquals(0x2000, s.loadAddress());
        assertEquals(0x2010, s.entry());
        assertEquals(0x400000, s.memorySize());
        assertEquals(0xd0000000L, s.testDevice().getAsLong());
        Ending.Halt h = assertInstanceOf(Ending.Halt.class, s.ending());
        assertEquals("Hi\n\u00e9", h.serial());
        assertEquals(Map.of(Register.RBX, -1L, Register.R12, 7L), h.registers());
        assertEquals(List.of(new MemoryCheck(0x10, 1, 1), new MemoryCheck(0x3000, 2, 0xbeef)), h.memory());
    }

    @Test
    void parsesLoopingGuest() {
        GuestSpec s = parse(HEAD.replace("long64", "protected32")
                + "end=loop\nloop.exit=mmio\nloop.address=0xd0000000\nloop.size=4\nloop.value=42\n");
        assertEquals(CpuMode.PROTECTED32, s.mode());
        assertTrue(s.testDevice().isEmpty());
        assertEquals(new Ending.Loop(Ending.ExitKind.MMIO, 0xd0000000L, 4, 42), s.ending());
    }

    @Test
    void haltWithoutChecksExpectsSilence() {
        Ending.Halt h = assertInstanceOf(Ending.Halt.class, parse(HEAD + "end=hlt\n").ending());
        assertEquals("", h.serial());
        assertTrue(h.registers().isEmpty() && h.memory().isEmpty());
    }

    @Test
    void rejectsMistakes() {
        List<String> bad = List.of(
                HEAD + "end=hlt\nreg.rbz=1\n",              // unknown register
                HEAD + "end=hlt\nserail=x\n",               // unknown key
                HEAD + "end=hlt\nmem12.0x10=1\n",           // not whole bytes
                HEAD + "end=hlt\nmem24.0x10=1\n",           // not 1/2/4/8 bytes
                HEAD + "end=hlt\nmem8.0x10=0x100\n",        // does not fit
                HEAD + "end=hlt\nmemx.0x10=1\n",            // no width
                HEAD + "end=hlt\nmem8=1\n",                 // no address
                HEAD + "end=hlt\nreg.rax=0xzz\n",           // not a number
                HEAD + "end=loop\nloop.exit=pio\nloop.address=0x80\nloop.size=3\nloop.value=1\n",
                HEAD + "end=loop\nloop.exit=dma\nloop.address=0x80\nloop.size=1\nloop.value=1\n",
                HEAD + "end=loop\nloop.exit=pio\nloop.size=1\nloop.value=1\n",  // no address
                HEAD + "end=loop\nloop.exit=pio\nloop.address=0x80\nloop.size=1\nloop.value=1\nreg.rax=1\n",
                HEAD + "end=reset\n",
                HEAD.replace("long64", "vm86") + "end=hlt\n",
                HEAD.replace("entry=0x2010\n", "") + "end=hlt\n");
        for (String text : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(text), text);
            assertTrue(e.getMessage().startsWith("t.expect: "), e.getMessage());
        }
    }

    @Test
    void numbersAreUnsignedHexOrDecimal() {
        assertEquals(-1L, GuestSpec.number("0xFFFF_FFFF_FFFF_FFFF"));
        assertEquals(4096, GuestSpec.number(" 4096 "));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.number("-1"));
        assertThrows(IllegalArgumentException.class, () -> GuestSpec.number("0x1_0000_0000_0000_0000"));
    }
}
