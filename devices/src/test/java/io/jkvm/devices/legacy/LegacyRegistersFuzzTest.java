package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jkvm.bus.BusDevice;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * Fuzzes the register files of the legacy devices a guest reaches through port I/O: the 16550A UART, the
 * i8042 (data and command port) and the CMOS RTC. The input is a sequence of reads and writes at any offset
 * (inside and past each device's ports), of any size (1, 2, 4, 8 bytes), with any value, mixed with bytes
 * arriving on the UART's serial input. Invariants: nothing escapes; a read returns no bits beyond its size;
 * the UART's interrupt line is asserted only while IIR reports an interrupt and OUT2 is set outside loopback;
 * the UART transmits at most one byte per THR write; the RTC's time registers stay readable whatever the
 * guest wrote to registers A-D. Committed inputs: {@code LegacyRegistersFuzzTestInputs/}.
 */
class LegacyRegistersFuzzTest {
    private static final int[] SIZES = {1, 1, 1, 2, 4, 8};
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-02T03:04:05Z"), ZoneOffset.UTC);

    @FuzzTest(maxDuration = "10m")
    void legacyRegisters(FuzzedDataProvider in) {
        RecordingLine uartLine = new RecordingLine(), kbd = new RecordingLine(), aux = new RecordingLine();
        int[] transmitted = {0};
        int[] resets = {0};
        Uart16550 uart = new Uart16550(uartLine, b -> {
            assertTrue(b >= 0 && b <= 0xff, "transmitted " + b);
            transmitted[0]++;
        });
        I8042 i8042 = new I8042(kbd, aux, () -> resets[0]++);
        CmosRtc rtc = new CmosRtc(CLOCK);
        BusDevice[] devices = {uart, i8042.dataPort(), i8042.commandPort(), rtc};
        int[] portCount = {Uart16550.PORT_COUNT, 1, 1, CmosRtc.PORT_COUNT};

        for (int step = 0; step < 256 && in.remainingBytes() > 0; step++) {
            int which = in.consumeInt(0, devices.length);
            if (which == devices.length) { // serial input
                byte[] bytes = in.consumeBytes(in.consumeInt(0, 32));
                int accepted = uart.receive(bytes, 0, bytes.length);
                assertTrue(accepted >= 0 && accepted <= Math.min(16, bytes.length), "accepted " + accepted);
                continue;
            }
            BusDevice device = devices[which];
            long offset = in.consumeBoolean() ? in.consumeInt(0, portCount[which] - 1) : in.consumeInt(0, 15);
            int size = in.pickValue(SIZES);
            if (in.consumeBoolean()) {
                int before = transmitted[0];
                device.write(offset, size, in.consumeLong());
                if (device == uart) assertTrue(transmitted[0] - before <= size, "more bytes sent than written");
            } else {
                long value = device.read(offset, size);
                if (size < 8) assertEquals(0, value >>> (8 * size), size + "-byte read at " + offset + " of device " + which);
            }
            if (uartLine.level()) {
                int iir = (int) uart.read(2, 1);
                int mcr = (int) uart.read(4, 1);
                // IIR read may clear a THR-empty interrupt: check the line against what IIR said first.
                assertEquals(0, iir & 1, "UART INTR asserted while IIR says no interrupt is pending");
                assertEquals(0b0_1000, mcr & 0b1_1000, "UART INTR asserted without OUT2 or in loopback");
            }
        }
        // The clock registers are readable in every mode the guest may have left register B in.
        for (int register : new int[] {0, 2, 4, 6, 7, 8, 9, 0x32}) {
            rtc.write(0, 1, register);
            long value = rtc.read(1, 1);
            assertTrue(value >= 0 && value <= 0xff);
        }
    }
}
