package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.devices.legacy.CmosRtcTest.ManualClock;
import io.jkvm.snapshot.SnapshotFormatException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CmosRtcStateTest {
    private static final int SECONDS = 0x00, MINUTES = 0x02, HOURS = 0x04, YEAR = 0x09, REG_B = 0x0B, NVRAM = 0x40;
    private static final int B_SET = 0x80, B_24_HOUR = 0x02, B_BINARY = 0x04;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-26T14:58:07.500Z"));
    private final CmosRtc rtc = new CmosRtc(clock);

    private int read(CmosRtc r, int register) {
        r.write(0, 1, register);
        return (int) r.read(1, 1);
    }

    private void write(CmosRtc r, int register, int value) {
        r.write(0, 1, register);
        r.write(1, 1, value);
    }

    /** The guest set binary mode and the time one hour ahead of the host, and wrote NVRAM; index left on YEAR. */
    private byte[] savedAfterTheGuestSetTheClock() {
        write(rtc, REG_B, B_SET | B_24_HOUR | B_BINARY);
        write(rtc, HOURS, 15);
        write(rtc, REG_B, B_24_HOUR | B_BINARY);
        write(rtc, NVRAM, 0xa5);
        rtc.write(0, 1, YEAR);
        return SavedState.save(rtc);
    }

    @Test
    void restoredClockKeepsTheGuestsOffsetRamAndIndexAndRunsOnHostTime() {
        byte[] state = savedAfterTheGuestSetTheClock();
        ManualClock later = new ManualClock(Instant.parse("2026-11-26T16:00:00.500Z"));
        CmosRtc restored = SavedState.restore(state, new CmosRtc(later));
        assertEquals(26, restored.read(1, 1), "the index still selects YEAR (binary 26)");
        assertEquals(17, read(restored, HOURS), "host 16:00:00.5 plus the guest's 59:59.5");
        assertEquals(0, read(restored, MINUTES));
        assertEquals(0, read(restored, SECONDS));
        assertEquals(0xa5, read(restored, NVRAM));
        assertEquals(B_24_HOUR | B_BINARY, read(restored, REG_B));
    }

    @Test
    void anOffsetNoGuestCouldSetIsRefused() {
        byte[] state = SavedState.save(rtc);
        int offsetSeconds = 10 + 4 + 1 + 4 + 128; // section header, index, RAM
        state[offsetSeconds + 7] = 0x40; // 2^62 s
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SavedState.restore(state, new CmosRtc(clock)));
        assertTrue(e.getMessage().contains("from host time"), e.getMessage());
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        byte[] state = savedAfterTheGuestSetTheClock();
        SavedState.assertCorruptionRefused(state, () -> new CmosRtc(clock));
    }
}
