package io.jkvm.devices.legacy;

import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * The PC/AT real-time clock and CMOS RAM: a Motorola MC146818A behind an index port (offset 0, 0x70
 * on a PC) and a data port (offset 1, 0x71). Register with length {@link #PORT_COUNT}.
 *
 * <p>The clock runs on an injected {@link Clock} read as UTC, plus whatever offset the guest sets by
 * writing the time (normally with register B's SET bit, as Linux's mc146818_set_time does). Register B
 * selects BCD or binary (DM) and 12- or 24-hour (24/12) representation; the default is BCD and
 * 24-hour, what a PC BIOS leaves. Byte 0x32 holds the century (the IBM PC/AT convention, named by the
 * ACPI FADT CENTURY field). Register A's UIP bit is set in the last 244 µs before each second's update
 * (MC146818A datasheet, register A: UIP = 0 promises no update for at least 244 µs) and clears at the
 * tick, since the update itself takes no time here; so it never stays set. The divider bits read
 * back as written, 010 (32.768 kHz time base) after reset, as Linux expects. Register
 * D reads VRT (valid RAM and time). Every other byte of the 128 is plain RAM.
 *
 * <p>While SET = 1 the time registers are frozen RAM the guest edits; clearing SET makes them the new
 * time if they form a valid date and time, read in the DM and 24/12 form of the last register B written
 * with SET, and otherwise leave the clock as it was (the chip would count from nonsense; a hostile
 * guest gets nothing out of that here). With SET = 0 a write to one time register adjusts that field
 * at once. The day of week is derived from the date, never stored. The running time is always
 * presented in the current DM and 24/12 form.
 *
 * <p>Not modelled: interrupts (no IRQ 8; register C reads 0), alarms (their bytes are RAM), daylight
 * saving, the divider-chain reset, and the NMI mask in bit 7 of the index (accepted, ignored).
 *
 * <p>Its saved state is the index, the 128 bytes of RAM and the offset the guest set from host time; the
 * time itself comes from the host clock after a restore, as it did before.
 */
public final class CmosRtc extends ByteRegisters implements Stateful {
    /** Index port and data port. */
    public static final int PORT_COUNT = 2;

    private static final int INDEX_PORT = 0;
    private static final int DATA_PORT = 1;
    private static final int INDEX_MASK = 0x7F; // bit 7 is the PC's NMI disable, not part of the index
    private static final int RAM_SIZE = 128;

    // MC146818A address map (datasheet); CENTURY at 0x32 is the IBM PC/AT convention.
    private static final int SECONDS = 0x00, MINUTES = 0x02, HOURS = 0x04, DAY_OF_WEEK = 0x06;
    private static final int DAY_OF_MONTH = 0x07, MONTH = 0x08, YEAR = 0x09, CENTURY = 0x32;
    private static final int REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C, REG_D = 0x0D;
    private static final int[] TIME_REGISTERS = {SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY};

    private static final int A_UIP = 0b1000_0000;
    private static final int A_RESET = 0b0010_0110; // DV2-0 = 010 (32.768 kHz time base), RS3-0 = 0110 (1024 Hz)
    private static final int B_SET = 0b1000_0000;
    private static final int B_UIE = 0b0001_0000; // cleared when SET is set (datasheet, register B bit 4)
    private static final int B_DM_BINARY = 0b0000_0100;
    private static final int B_24_HOUR = 0b0000_0010;
    private static final int B_RESET = B_24_HOUR;
    private static final int D_VRT = 0b1000_0000;
    private static final int HOUR_PM = 0b1000_0000;

    private static final long UIP_LEAD_NANOS = 244_000;
    /** The guest sets years 0-9999 (century and year bytes), so its offset from host time is within this. */
    private static final long MAX_OFFSET_SECONDS = 10_000L * 366 * 86_400;
    private static final long NANOS_PER_SECOND = 1_000_000_000;

    private final Clock clock;
    private final byte[] ram = new byte[RAM_SIZE];
    private int index;
    private Duration offset = Duration.ZERO;

    /** @param clock host time; its zone is ignored, the RTC keeps UTC */
    public CmosRtc(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        ram[REG_A] = (byte) A_RESET;
        ram[REG_B] = (byte) B_RESET;
    }

    @Override
    public String name() {
        return "rtc";
    }

    /** The index port, or the data port with the register the index selects (MC146818A address map). */
    @Override
    public synchronized String register(long offset, boolean write, long value) {
        return switch ((int) offset) {
            case INDEX_PORT -> "index";
            case DATA_PORT -> switch (index) {
                case SECONDS -> "seconds";
                case MINUTES -> "minutes";
                case HOURS -> "hours";
                case DAY_OF_WEEK -> "day of week";
                case DAY_OF_MONTH -> "day of month";
                case MONTH -> "month";
                case YEAR -> "year";
                case CENTURY -> "century";
                case REG_A -> "register A";
                case REG_B -> "register B";
                case REG_C -> "register C";
                case REG_D -> "register D";
                default -> String.format("RAM %#04x", index);
            };
            default -> super.register(offset, write, value);
        };
    }

    @Override
    synchronized int readByte(long offset) {
        if (offset != DATA_PORT) return FLOATING_BUS; // the index port is write-only on the PC/AT
        return switch (index) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY ->
                    frozen() ? ram[index] & 0xFF : encode(index, guestTime(), registerB());
            case REG_A -> ram[REG_A] & 0xFF | (updateImminent() ? A_UIP : 0);
            case REG_C -> 0;
            case REG_D -> D_VRT;
            default -> ram[index] & 0xFF;
        };
    }

    @Override
    synchronized void writeByte(long offset, int value) {
        if (offset == INDEX_PORT) {
            index = value & INDEX_MASK;
            return;
        }
        if (offset != DATA_PORT) return;
        switch (index) {
            case SECONDS, MINUTES, HOURS, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
                if (frozen()) {
                    ram[index] = (byte) value;
                } else {
                    int b = registerB();
                    freeze(b);
                    ram[index] = (byte) value;
                    thaw(b);
                }
            }
            case REG_A -> ram[REG_A] = (byte) (value & ~A_UIP);
            case REG_B -> writeB(value);
            case DAY_OF_WEEK, REG_C, REG_D -> { } // derived from the date / read-only
            default -> ram[index] = (byte) value;
        }
    }

    private void writeB(int value) {
        boolean set = (value & B_SET) != 0;
        if (set && !frozen()) freeze(value);
        else if (!set && frozen()) thaw(registerB()); // the bytes were written in the mode set along with SET
        ram[REG_B] = (byte) (set ? value & ~B_UIE : value);
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u8(index).bytes(ram).u64(offset.getSeconds()).u32(offset.getNano());
    }

    @Override
    public synchronized void restoreState(StateReader in) {
        int savedIndex = in.u8();
        byte[] savedRam = in.bytes("the CMOS RAM", RAM_SIZE);
        long seconds = in.u64();
        int nanos = in.u32InRange("the RTC offset's nanoseconds", 0, (int) NANOS_PER_SECOND - 1);
        if (savedIndex > INDEX_MASK)
            throw new SnapshotFormatException(String.format("the CMOS index %#x is beyond its 128 bytes", savedIndex));
        if (seconds < -MAX_OFFSET_SECONDS || seconds > MAX_OFFSET_SECONDS)
            throw new SnapshotFormatException("the RTC runs " + seconds + " s from host time, more than a guest can set");
        index = savedIndex;
        System.arraycopy(savedRam, 0, ram, 0, RAM_SIZE);
        ram[REG_A] &= (byte) ~A_UIP; // computed on read, never stored (a stored one would never clear)
        offset = Duration.ofSeconds(seconds, nanos);
    }

    private int registerB() {
        return ram[REG_B] & 0xFF;
    }

    private boolean frozen() {
        return (registerB() & B_SET) != 0;
    }

    private LocalDateTime guestTime() {
        return LocalDateTime.ofInstant(clock.instant().plus(offset), ZoneOffset.UTC);
    }

    /** True in the 244 µs before the next second's update cycle; never while SET holds updates off. */
    private boolean updateImminent() {
        return !frozen() && guestTime().getNano() >= NANOS_PER_SECOND - UIP_LEAD_NANOS;
    }

    /** Copies the running time into the time registers, in the representation {@code b} selects. */
    private void freeze(int b) {
        LocalDateTime now = guestTime();
        for (int register : TIME_REGISTERS)
            ram[register] = (byte) encode(register, now, b);
    }

    /** Starts the clock from the time registers, read in the representation {@code b} selects, if valid. */
    private void thaw(int b) {
        LocalDateTime set = decode(b);
        if (set != null) offset = Duration.between(clock.instant(), set.toInstant(ZoneOffset.UTC));
    }

    private static int encode(int register, LocalDateTime t, int b) {
        return switch (register) {
            case SECONDS -> number(t.getSecond(), b);
            case MINUTES -> number(t.getMinute(), b);
            case HOURS -> (b & B_24_HOUR) != 0 ? number(t.getHour(), b)
                    : number((t.getHour() + 11) % 12 + 1, b) | (t.getHour() >= 12 ? HOUR_PM : 0);
            case DAY_OF_WEEK -> number(t.getDayOfWeek().getValue() % 7 + 1, b); // 1 = Sunday
            case DAY_OF_MONTH -> number(t.getDayOfMonth(), b);
            case MONTH -> number(t.getMonthValue(), b);
            case YEAR -> number(t.getYear() % 100, b);
            case CENTURY -> number(t.getYear() / 100, b);
            default -> throw new IllegalArgumentException("not a time register: " + register);
        };
    }

    private static int number(int value, int b) {
        return (b & B_DM_BINARY) != 0 ? value : value / 10 << 4 | value % 10;
    }

    /** The time registers as a date and time, or null if any field is out of range. */
    private LocalDateTime decode(int b) {
        int second = field(SECONDS, b, 59), minute = field(MINUTES, b, 59);
        int day = field(DAY_OF_MONTH, b, 31), month = field(MONTH, b, 12);
        int year = field(YEAR, b, 99), century = field(CENTURY, b, 99);
        int hour;
        if ((b & B_24_HOUR) != 0) {
            hour = field(HOURS, b, 23);
        } else {
            int clockHour = unpack(ram[HOURS] & ~HOUR_PM & 0xFF, b, 12);
            hour = clockHour < 1 ? -1 : clockHour % 12 + ((ram[HOURS] & HOUR_PM) != 0 ? 12 : 0);
        }
        if ((second | minute | hour | day | month | year | century) < 0) return null;
        try {
            return LocalDateTime.of(century * 100 + year, month, day, hour, minute, second);
        } catch (DateTimeException e) {
            return null; // e.g. February 30
        }
    }

    private int field(int register, int b, int max) {
        return unpack(ram[register] & 0xFF, b, max);
    }

    /** A register byte as a number in [0, max], or -1 (also for a BCD digit above 9). */
    private static int unpack(int raw, int b, int max) {
        int value = raw;
        if ((b & B_DM_BINARY) == 0) {
            if ((raw & 0x0F) > 9 || raw >>> 4 > 9) return -1;
            value = (raw >>> 4) * 10 + (raw & 0x0F);
        }
        return value <= max ? value : -1;
    }
}
