package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Decoding kvm_run in place from a hand-filled buffer. */
class KvmRunTest {
    private final KvmRunBuffer f = new KvmRunBuffer();

    @Test
    void decodesIoExit() {
        f.io(true, 2, 0x3f8, 3);
        f.b.putShort(KvmRunBuffer.PIO_DATA, (short) 0x1234).putShort(KvmRunBuffer.PIO_DATA + 2, (short) 0xbeef)
                .putShort(KvmRunBuffer.PIO_DATA + 4, (short) 0x0042);
        KvmRun run = f.run;
        assertEquals(ExitReason.IO, run.exitReason());
        assertTrue(run.ioIsOut());
        assertEquals(2, run.ioSize());
        assertEquals(0x3f8, run.ioPort());
        assertEquals(3, run.ioCount());
        assertEquals(KvmRunBuffer.PIO_DATA, run.ioDataOffset());
        assertTrue(run.ioDataInBounds());
        assertEquals(0x1234, run.ioData(0));
        assertEquals(0xbeef, run.ioData(1), "zero-extended, not sign-extended");
        assertEquals(0x42, run.ioData(2));
    }

    @Test
    void writesIoInData() {
        f.io(false, 4, 0xcfc, 1);
        f.run.ioData(0, 0xdeadbeefL);
        assertEquals(0xdeadbeef, f.b.getInt(KvmRunBuffer.PIO_DATA));
        assertFalse(f.run.ioIsOut());
    }

    @Test
    void highPortsAreUnsigned() {
        f.io(true, 1, 0xfffe, 1);
        assertEquals(0xfffe, f.run.ioPort());
    }

    @Test
    void ioDataOutsideTheMappingIsRejected() {
        f.io(true, 4, 0x80, 2);
        f.b.putLong(IO_DATA_OFFSET, KvmRunBuffer.LENGTH - 4);
        assertFalse(f.run.ioDataInBounds());
        f.b.putLong(IO_DATA_OFFSET, KvmRunBuffer.LENGTH - 8);
        assertTrue(f.run.ioDataInBounds());
        f.b.putLong(IO_DATA_OFFSET, -1);
        assertFalse(f.run.ioDataInBounds());
        f.b.putLong(IO_DATA_OFFSET, 0).putInt(IO_COUNT, -1);
        assertFalse(f.run.ioDataInBounds(), "count is unsigned");
    }

    @Test
    void decodesMmioOfEveryLength() {
        for (int len = 1; len <= 8; len++) {
            f.mmio(0xd000_0000L + len, len, true, 0x8877_6655_4433_2211L);
            assertEquals(0xd000_0000L + len, f.run.mmioPhysAddr());
            assertTrue(f.run.mmioIsWrite());
            long mask = len == 8 ? -1L : (1L << 8 * len) - 1;
            assertEquals(0x8877_6655_4433_2211L & mask, f.run.mmioData(), "len " + len);
        }
    }

    @Test
    void mmioReadStoresOnlyLenBytes() {
        f.mmio(0xfee0_0000L, 2, false, 0);
        f.b.putLong(MMIO_DATA, 0x7777_7777_7777_7777L);
        f.run.mmioData(0xabcdL);
        assertEquals(0x7777_7777_7777_abcdL, f.b.getLong(MMIO_DATA));
        f.b.putInt(MMIO_LEN, 3);
        f.run.mmioData(0x123456L);
        assertEquals(0x7777_7777_7712_3456L, f.b.getLong(MMIO_DATA));
    }

    @Test
    void decodesFailEntryAndInternalError() {
        f.exit(ExitReason.FAIL_ENTRY);
        f.b.putLong(FAIL_ENTRY_HARDWARE_REASON, 0x80000021L).putInt(FAIL_ENTRY_CPU, 1);
        assertEquals(0x80000021L, f.run.failEntryHardwareReason());
        assertEquals(1, f.run.failEntryCpu());

        f.exit(ExitReason.INTERNAL_ERROR);
        f.b.putInt(INTERNAL_SUBERROR, 3).putInt(INTERNAL_NDATA, 2).putLong(INTERNAL_DATA, 7).putLong(INTERNAL_DATA + 8, 9);
        assertEquals(3, f.run.internalSuberror());
        assertEquals(2, f.run.internalNdata());
        assertEquals(9, f.run.internalData(1));
        f.b.putInt(INTERNAL_NDATA, 1000);
        assertEquals(16, f.run.internalNdata(), "capped at the struct's 16 words");
        assertThrows(IndexOutOfBoundsException.class, () -> f.run.internalData(16));
    }

    @Test
    void decodesEmulationFailureInstructionBytes() {
        f.emulationFailure(0xcc, 0x90, 0x0f, 0x0b);
        assertEquals(KVM_INTERNAL_ERROR_EMULATION, f.run.internalSuberror());
        assertEquals(4, f.run.emulationFailureInsnSize());
        assertEquals(0xcc, f.run.emulationFailureInsnByte(0));
        assertEquals(0x0b, f.run.emulationFailureInsnByte(3));
        f.b.put(EMULATION_FAILURE_INSN_SIZE, (byte) 200);
        assertEquals(15, f.run.emulationFailureInsnSize(), "capped at 15 bytes");
        f.b.putLong(EMULATION_FAILURE_FLAGS, 0);
        assertEquals(0, f.run.emulationFailureInsnSize(), "bytes valid only with the flag");
    }

    @Test
    void immediateExitAndSystemEvent() {
        f.run.setImmediateExit(true);
        assertEquals(1, f.b.get(IMMEDIATE_EXIT));
        f.run.setImmediateExit(false);
        assertEquals(0, f.b.get(IMMEDIATE_EXIT));
        f.systemEvent(KVM_SYSTEM_EVENT_RESET);
        assertEquals(ExitReason.SYSTEM_EVENT, f.run.exitReason());
        assertEquals(KVM_SYSTEM_EVENT_RESET, f.run.systemEventType());
    }

    @Test
    void exitReasonCodes() {
        assertEquals(ExitReason.HLT, ExitReason.of(5));
        assertEquals(ExitReason.SYSTEM_EVENT, ExitReason.of(24));
        assertEquals(ExitReason.INTERNAL_ERROR, ExitReason.of(17));
        assertEquals(ExitReason.UNRECOGNIZED, ExitReason.of(13), "s390 reason");
        assertEquals(ExitReason.UNRECOGNIZED, ExitReason.of(-5));
        assertEquals(ExitReason.UNRECOGNIZED, ExitReason.of(1 << 20));
        for (ExitReason r : ExitReason.values()) if (r != ExitReason.UNRECOGNIZED) assertEquals(r, ExitReason.of(r.code()));
    }

    @Test
    void rejectsTooSmallMapping() {
        assertThrows(IllegalArgumentException.class, () -> new KvmRun(0, SIZE - 1));
    }
}
