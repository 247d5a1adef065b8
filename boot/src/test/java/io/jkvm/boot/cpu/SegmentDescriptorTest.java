package io.jkvm.boot.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SegmentDescriptorTest {

    @Test
    void encodesTheWellKnownFlatDescriptors() {
        // The values Linux's GDT_ENTRY(flags, 0, 0xfffff) produces for its boot GDT (arch/x86/boot/pm.c).
        assertEquals(0x00af_9b00_0000_ffffL, SegmentDescriptor.CODE64.encode());
        assertEquals(0x00cf_9b00_0000_ffffL, SegmentDescriptor.CODE32.encode());
        assertEquals(0x00cf_9300_0000_ffffL, SegmentDescriptor.DATA32.encode());
        assertEquals(0x0000_8b00_0000_0067L, SegmentDescriptor.TSS64.encode());
    }

    @Test
    void splitsBaseAndLimitAcrossTheDescriptor() {
        SegmentDescriptor d = new SegmentDescriptor(0x1234_5678L, 0xabcde, 0b0010, false, 3, true, false, false,
                false);
        long e = d.encode();
        assertEquals(0xbcde, e & 0xffff);                     // limit 15:0
        assertEquals(0x34_5678, (e >>> 16) & 0xff_ffff);      // base 23:0
        assertEquals(0b0010, (e >>> 40) & 0xf);               // type
        assertEquals(1, (e >>> 44) & 1);                      // S: code/data
        assertEquals(3, (e >>> 45) & 0b11);                   // DPL
        assertEquals(1, (e >>> 47) & 1);                      // P
        assertEquals(0xa, (e >>> 48) & 0xf);                  // limit 19:16
        assertEquals(0x12, e >>> 56);                         // base 31:24
        assertEquals(0xabcde, d.byteLimit());
    }

    @Test
    void byteLimitExpandsGranularity() {
        assertEquals(0xffff_ffffL, SegmentDescriptor.DATA32.byteLimit());
        assertEquals(0x67, SegmentDescriptor.TSS64.byteLimit());
    }

    @Test
    void realModeSegmentsAreSixteenTimesTheSelector() {
        SegmentDescriptor cs = SegmentDescriptor.realMode(0xf000, true);
        assertEquals(0xf0000, cs.base());
        assertEquals(0xffff, cs.byteLimit());
        assertEquals(SegmentDescriptor.TYPE_CODE_EXEC_READ_ACCESSED, cs.type());
        assertEquals(SegmentDescriptor.TYPE_DATA_READ_WRITE_ACCESSED, SegmentDescriptor.realMode(0, false).type());
    }

    @Test
    void rejectsFieldsThatDoNotFit() {
        assertThrows(IllegalArgumentException.class,
                () -> new SegmentDescriptor(0, 0x100000, 0, false, 0, true, false, false, false));
        assertThrows(IllegalArgumentException.class,
                () -> new SegmentDescriptor(0, 0, 0x10, false, 0, true, false, false, false));
        assertThrows(IllegalArgumentException.class,
                () -> new SegmentDescriptor(0, 0, 0, false, 4, true, false, false, false));
        assertThrows(IllegalArgumentException.class,
                () -> new SegmentDescriptor(0, 0, 0, false, 0, true, true, true, false));
    }
}
