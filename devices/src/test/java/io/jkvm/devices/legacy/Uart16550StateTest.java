package io.jkvm.devices.legacy;

import static io.jkvm.devices.legacy.Linux8250Port.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import io.jkvm.snapshot.SnapshotFormatException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Uart16550StateTest {
    private final RecordingLine irq = new RecordingLine();
    private final Uart16550 uart = new Uart16550(irq, b -> { });
    private final Linux8250Port linux = new Linux8250Port(uart);

    /** Linux's port set up (FIFOs at trigger 8, RX interrupts), "hello" received and its 'h' read. */
    private byte[] savedWithBytesWaiting() {
        linux.startup();
        linux.out(UART_SCR, 0x5a);
        assertEquals(5, uart.receive("hello".getBytes(StandardCharsets.US_ASCII), 0, 5));
        assertEquals('h', linux.in(UART_RX));
        assertTrue(irq.level(), "bytes below the trigger level: character timeout pending");
        return SavedState.save(uart);
    }

    @Test
    void restoredUartRaisesItsInterruptAndDeliversTheFifoInOrder() {
        byte[] state = savedWithBytesWaiting();
        RecordingLine restoredIrq = new RecordingLine();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        Uart16550 restored = SavedState.restore(state, new Uart16550(restoredIrq, sent::write));
        Linux8250Port port = new Linux8250Port(restored);
        assertTrue(restoredIrq.level(), "the pending interrupt is asserted again");
        for (int reg : new int[] {UART_IER, UART_IIR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_SCR})
            assertEquals(linux.in(reg), port.in(reg), "register " + reg);
        StringBuilder rest = new StringBuilder();
        while ((port.in(UART_LSR) & UART_LSR_DR) != 0) rest.append((char) port.in(UART_RX));
        assertEquals("ello", rest.toString());
        assertFalse(restoredIrq.level(), "FIFO drained");
        port.out(UART_LCR, UART_LCR_WLEN8 | UART_LCR_CONF_MODE_A);
        assertEquals(1, port.in(UART_DLL), "divisor latch kept");
        port.out(UART_LCR, UART_LCR_WLEN8);
        port.out(UART_TX, 'x');
        assertEquals("x", sent.toString(StandardCharsets.US_ASCII));
        assertEquals(16, restored.receive(new byte[20], 0, 20), "a 16-byte FIFO again, emptied");
    }

    @Test
    void moreWaitingBytesThanTheReceiverHoldsAreRefused() {
        byte[] state = savedWithBytesWaiting();
        // section "device" (4 + 6 bytes) and its length (4); the 4 waiting bytes (4 + 4); RBR to DLM (7); FCR0
        int fifosEnabled = 10 + 4 + 8 + 7;
        assertEquals(1, state[fifosEnabled]);
        state[fifosEnabled] = 0; // without FIFOs the receiver holds one byte
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                () -> SavedState.restore(state, new Uart16550(new RecordingLine(), b -> { })));
        assertTrue(e.getMessage().contains("holds 4 bytes, more than its 1"), e.getMessage());
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        byte[] state = savedWithBytesWaiting();
        SavedState.assertCorruptionRefused(state, () -> new Uart16550(new RecordingLine(), b -> { }));
    }
}
