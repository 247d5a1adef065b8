package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class CmosRtcTest {
    // include/linux/mc146818rtc.h
    static final int RTC_SECONDS = 0, RTC_MINUTES = 2, RTC_HOURS = 4, RTC_DAY_OF_WEEK = 6, RTC_DAY_OF_MONTH = 7,
            RTC_MONTH = 8, RTC_YEAR = 9, RTC_FREQ_SELECT = 0x0A, RTC_CONTROL = 0x0B, RTC_INTR_FLAGS = 0x0C,
            RTC_VALID = 0x0D, CENTURY = 0x32;
    static final int RTC_UIP = 0x80, RTC_SET = 0x80, RTC_DM_BINARY = 0x04, RTC_24H = 0x02, RTC_VRT = 0x80;

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now;

        ManualClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    // A Thursday afternoon.
    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-26T14:58:07.500Z"));
    private final CmosRtc rtc = new CmosRtc(clock);

    private int cmosRead(int index) {
        rtc.write(0, 1, index);
        return (int) rtc.read(1, 1);
    }

    private void cmosWrite(int index, int value) {
        rtc.write(0, 1, index);
        rtc.write(1, 1, value);
    }

    private int[] readTime() {
        return new int[] {cmosRead(RTC_SECONDS), cmosRead(RTC_MINUTES), cmosRead(RTC_HOURS), cmosRead(RTC_DAY_OF_WEEK),
                cmosRead(RTC_DAY_OF_MONTH), cmosRead(RTC_MONTH), cmosRead(RTC_YEAR), cmosRead(CENTURY)};
    }

    @Test
    void resetStateIsBcd24HourWithLinuxDividerBits() {
        assertEquals(0x26, cmosRead(RTC_FREQ_SELECT), "DV = 010, RS = 0110, UIP clear mid-second");
        assertEquals(RTC_24H, cmosRead(RTC_CONTROL));
        assertEquals(0, cmosRead(RTC_INTR_FLAGS));
        assertEquals(RTC_VRT, cmosRead(RTC_VALID));
    }

    @Test
    void readsBcdTime() {
        assertArrayEquals(new int[] {0x07, 0x58, 0x14, 0x05, 0x26, 0x11, 0x26, 0x20}, readTime());
    }

    @Test
    void readsBinaryTime() {
        cmosWrite(RTC_CONTROL, RTC_24H | RTC_DM_BINARY);
        assertArrayEquals(new int[] {7, 58, 14, 5, 26, 11, 26, 20}, readTime());
    }

    @Test
    void twelveHourModeMarksPm() {
        cmosWrite(RTC_CONTROL, 0);
        assertEquals(0x82, cmosRead(RTC_HOURS), "2 PM in BCD");
        cmosWrite(RTC_CONTROL, RTC_DM_BINARY);
        assertEquals(0x80 | 2, cmosRead(RTC_HOURS), "2 PM in binary");
        clock.now = Instant.parse("2026-11-26T00:30:00Z");
        assertEquals(12, cmosRead(RTC_HOURS), "12 AM");
        clock.now = Instant.parse("2026-11-26T12:30:00Z");
        assertEquals(0x80 | 12, cmosRead(RTC_HOURS), "12 PM");
    }

    @Test
    void clockFollowsHostTime() {
        clock.advance(Duration.ofSeconds(3));
        assertEquals(0x10, cmosRead(RTC_SECONDS));
        clock.now = Instant.parse("2099-12-31T23:59:59Z");
        assertArrayEquals(new int[] {0x59, 0x59, 0x23, 0x05, 0x31, 0x12, 0x99, 0x20}, readTime());
        clock.advance(Duration.ofSeconds(1));
        assertArrayEquals(new int[] {0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21}, readTime());
    }

    @Test
    void uipIsSetOnlyJustBeforeTheSecondTicks() {
        clock.now = Instant.parse("2026-11-26T14:58:07.999900Z");
        assertEquals(RTC_UIP, cmosRead(RTC_FREQ_SELECT) & RTC_UIP);
        clock.now = Instant.parse("2026-11-26T14:58:07.999700Z");
        assertEquals(0, cmosRead(RTC_FREQ_SELECT) & RTC_UIP);
        clock.now = Instant.parse("2026-11-26T14:58:07.999900Z");
        cmosWrite(RTC_CONTROL, RTC_SET | RTC_24H);
        assertEquals(0, cmosRead(RTC_FREQ_SELECT) & RTC_UIP, "no updates while SET");
    }

    @Test
    void registerAKeepsWrittenBitsButUipIsReadOnly() {
        cmosWrite(RTC_FREQ_SELECT, 0xA0);
        assertEquals(0x20, cmosRead(RTC_FREQ_SELECT));
    }

    /** mc146818_set_time(): SET, divider reset, the time registers, then restore B and A. */
    @Test
    void guestSetsTimeWithSetBit() {
        int saveControl = cmosRead(RTC_CONTROL);
        cmosWrite(RTC_CONTROL, saveControl | RTC_SET);
        int saveFreqSelect = cmosRead(RTC_FREQ_SELECT);
        cmosWrite(RTC_FREQ_SELECT, saveFreqSelect | 0x70); // RTC_DIV_RESET2
        clock.advance(Duration.ofSeconds(5));
        assertEquals(0x07, cmosRead(RTC_SECONDS), "frozen while SET");
        cmosWrite(RTC_YEAR, 0x01);
        cmosWrite(RTC_MONTH, 0x02);
        cmosWrite(RTC_DAY_OF_MONTH, 0x03);
        cmosWrite(RTC_HOURS, 0x04);
        cmosWrite(RTC_MINUTES, 0x05);
        cmosWrite(RTC_SECONDS, 0x06);
        cmosWrite(CENTURY, 0x20);
        cmosWrite(RTC_CONTROL, saveControl);
        cmosWrite(RTC_FREQ_SELECT, saveFreqSelect);
        assertEquals(0x26, cmosRead(RTC_FREQ_SELECT));
        clock.advance(Duration.ofSeconds(2));
        assertArrayEquals(new int[] {0x08, 0x05, 0x04, 0x07, 0x03, 0x02, 0x01, 0x20}, readTime(),
                "2001-02-03 04:05:08, a Saturday");
    }

    @Test
    void setTimeInBinary12HourMode() {
        cmosWrite(RTC_CONTROL, RTC_SET | RTC_DM_BINARY);
        cmosWrite(RTC_HOURS, 0x80 | 12); // 12 PM
        cmosWrite(RTC_MINUTES, 1);
        cmosWrite(RTC_CONTROL, RTC_DM_BINARY | RTC_24H);
        assertEquals(12, cmosRead(RTC_HOURS));
        assertEquals(1, cmosRead(RTC_MINUTES));
        assertEquals(26, cmosRead(RTC_DAY_OF_MONTH), "unwritten fields kept");
    }

    @Test
    void invalidTimeIsRejected() {
        cmosWrite(RTC_CONTROL, RTC_SET | RTC_24H);
        cmosWrite(RTC_MONTH, 0x02);
        cmosWrite(RTC_DAY_OF_MONTH, 0x30); // February 30
        cmosWrite(RTC_CONTROL, RTC_24H);
        assertArrayEquals(new int[] {0x07, 0x58, 0x14, 0x05, 0x26, 0x11, 0x26, 0x20}, readTime());
        cmosWrite(RTC_CONTROL, RTC_SET | RTC_24H);
        cmosWrite(RTC_MINUTES, 0x6A); // not BCD
        cmosWrite(RTC_CONTROL, RTC_24H);
        assertEquals(0x58, cmosRead(RTC_MINUTES));
    }

    @Test
    void singleFieldWriteWhileRunningAdjustsThatField() {
        cmosWrite(RTC_MINUTES, 0x10);
        clock.advance(Duration.ofSeconds(1));
        assertArrayEquals(new int[] {0x08, 0x10, 0x14}, new int[] {cmosRead(0), cmosRead(2), cmosRead(4)});
    }

    @Test
    void setBitClearsUpdateInterruptEnable() {
        cmosWrite(RTC_CONTROL, RTC_SET | 0x10 | RTC_24H);
        assertEquals(RTC_SET | RTC_24H, cmosRead(RTC_CONTROL));
    }

    @Test
    void otherBytesArePlainRam() {
        for (int i = 0x0E; i < 128; i++) if (i != CENTURY) cmosWrite(i, i ^ 0x5A);
        cmosWrite(0x01, 0x33); // seconds alarm
        for (int i = 0x0E; i < 128; i++) if (i != CENTURY) assertEquals(i ^ 0x5A, cmosRead(i), "byte " + i);
        assertEquals(0x33, cmosRead(0x01));
    }

    @Test
    void nmiMaskBitIsNotPartOfTheIndex() {
        cmosWrite(0x40, 0x77);
        assertEquals(0x77, cmosRead(0x80 | 0x40));
        assertEquals(0xFF, rtc.read(0, 1), "index port is write-only");
    }

    /** mc146818_avoid_UIP() + mc146818_get_time(): consistent read with UIP polling. */
    @Test
    void linuxGetTimeSucceedsFirstTry() {
        clock.now = Instant.parse("2026-11-26T14:58:07.999900Z");
        int attempts = 0;
        int[] time;
        while (true) {
            assertTrue(++attempts <= 10, "mc146818_avoid_UIP gave up");
            assertEquals(0, cmosRead(RTC_VALID) & 0x40, "RTC_VALID bit 6 must be 0");
            if ((cmosRead(RTC_FREQ_SELECT) & RTC_UIP) != 0) {
                clock.advance(Duration.ofMillis(1)); // mdelay(1)
                continue;
            }
            int seconds = cmosRead(RTC_SECONDS);
            time = readTime();
            if ((cmosRead(RTC_FREQ_SELECT) & RTC_UIP) == 0 && cmosRead(RTC_SECONDS) == seconds) break;
        }
        assertEquals(2, attempts);
        assertEquals(0x08, time[0]);
    }
}
