package io.jkvm.devices.legacy;

import static io.jkvm.devices.legacy.Linux8250Port.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class Uart16550Test {
    private final RecordingLine irq = new RecordingLine();
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private final Uart16550 uart = new Uart16550(irq, sent::write);
    private final Linux8250Port linux = new Linux8250Port(uart);

    private int in(int reg) {
        return linux.in(reg);
    }

    private void out(int reg, int value) {
        linux.out(reg, value);
    }

    @Test
    void resetStateMatchesDatasheet() {
        assertEquals(0x00, in(UART_IER));
        assertEquals(0x01, in(UART_IIR), "no interrupt pending, FIFOs off");
        assertEquals(0x00, in(UART_LCR));
        assertEquals(0x00, in(UART_MCR));
        assertEquals(UART_LSR_THRE | UART_LSR_TEMT, in(UART_LSR));
        assertEquals(0xB0, in(UART_MSR), "DCD, DSR, CTS on, no deltas");
        assertFalse(irq.level());
    }

    @Test
    void linuxAutoconfigDetects16550A() {
        out(UART_SCR, 0x3c);
        assertEquals("16550A", linux.autoconfig());
        assertEquals(0, in(UART_IER), "autoconfig leaves IER cleared");
        assertEquals(0, in(UART_LCR), "saved LCR restored");
        assertEquals(0, in(UART_MCR), "saved MCR restored");
        assertEquals(0x01, in(UART_IIR), "FIFOs disabled again, nothing pending");
        assertEquals(0x3c, in(UART_SCR), "scratch untouched by a 16550A probe");
        assertEquals(0, sent.size(), "the loopback FIFO test never reaches the host");
        assertFalse(irq.level());
        assertEquals(0, irq.risingEdges.get(), "OUT2 stayed low: no stray IRQ during the probe");
    }

    @Test
    void sizeFifoCountsSixteenBytes() {
        assertEquals(16, linux.sizeFifo());
        assertEquals(0, in(UART_LSR) & 0x02, "reading LSR during size_fifo cleared the overrun");
    }

    @Test
    void scratchRegisterHoldsAnyByte() {
        for (int v : new int[] {0xa5, 0x5a, 0x00, 0xff}) {
            out(UART_SCR, v);
            assertEquals(v, in(UART_SCR));
        }
    }

    @Test
    void linuxStartupFindsNoThreOrTxenBug() {
        assertEquals("16550A", linux.autoconfig());
        linux.startup();
        assertFalse(linux.bugThre, "UART_BUG_THRE");
        assertFalse(linux.bugTxen, "UART_BUG_TXEN");
        assertEquals(0xC1, in(UART_IIR), "FIFOs on, RX interrupts enabled, nothing pending");
        assertFalse(irq.level());
    }

    @Test
    void thrEmptyInterruptFollowsIerEdgeIirReadAndThrWrite() {
        out(UART_MCR, UART_MCR_OUT2);
        out(UART_IER, UART_IER_THRI);
        assertTrue(irq.level(), "enabling ETBEI with THR empty raises the interrupt");
        assertEquals(0x02, in(UART_IIR));
        assertFalse(irq.level(), "reading IIR that reports THRE clears it");
        assertEquals(0x01, in(UART_IIR));
        out(UART_IER, UART_IER_THRI);
        assertEquals(0x01, in(UART_IIR), "rewriting an already-set ETBEI is no rising edge");
        out(UART_TX, 'x');
        assertEquals('x', sent.toByteArray()[0]);
        assertTrue(irq.level(), "THR empties at once after a write: THRE re-armed");
        out(UART_IER, 0);
        assertFalse(irq.level());
        out(UART_IER, UART_IER_THRI);
        assertEquals(0x02, in(UART_IIR), "0 -> 1 edge re-arms");
    }

    @Test
    void out2GatesTheIrqAndLoopbackForcesItOff() {
        out(UART_IER, UART_IER_THRI);
        assertFalse(irq.level(), "pending but OUT2 low");
        out(UART_MCR, UART_MCR_OUT2);
        assertTrue(irq.level());
        out(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
        assertFalse(irq.level(), "loopback forces OUT2 inactive");
        assertEquals(0x02, in(UART_IIR) & 0x0F, "the interrupt itself is still pending inside the chip");
    }

    @Test
    void iirReportsHighestPriorityFirst() {
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        out(UART_IER, 0x0F);
        out(UART_MCR, UART_MCR_LOOP); // DSR/CTS/DCD drop: modem status deltas
        for (int i = 0; i < 17; i++) out(UART_TX, i); // 16 looped back, the 17th overruns
        assertEquals(0xC6, in(UART_IIR), "line status (overrun) first");
        assertEquals(UART_LSR_DR | 0x02 | UART_LSR_THRE | UART_LSR_TEMT, in(UART_LSR));
        assertEquals(0xC4, in(UART_IIR), "then received data (16 >= trigger 1)");
        for (int i = 0; i < 16; i++) assertEquals(i, in(UART_RX), "FIFO keeps the first 16 bytes");
        assertEquals(0xC2, in(UART_IIR), "then THR empty, cleared by this read");
        assertEquals(0xC0, in(UART_IIR), "then modem status");
        assertEquals(0x0B, in(UART_MSR) & 0x0F, "DCTS, DDSR, DDCD set by entering loopback");
        assertEquals(0xC1, in(UART_IIR), "reading MSR cleared the deltas");
    }

    @Test
    void characterTimeoutBelowTriggerLevelDataAvailableAtIt() {
        out(UART_FCR, UART_FCR_ENABLE_FIFO | 0b0100_0000); // trigger level 4
        out(UART_IER, UART_IER_RDI);
        out(UART_MCR, UART_MCR_OUT2);
        assertEquals(3, uart.receive("abc".getBytes(StandardCharsets.US_ASCII), 0, 3));
        assertTrue(irq.level());
        assertEquals(0xCC, in(UART_IIR), "character timeout below the trigger level");
        assertTrue(uart.receive((byte) 'd'));
        assertEquals(0xC4, in(UART_IIR), "received data available at the trigger level");
        for (char c : "abcd".toCharArray()) assertEquals(c, in(UART_RX));
        assertEquals(0, in(UART_LSR) & UART_LSR_DR);
        assertFalse(irq.level());
    }

    @Test
    void hostNeverOverrunsAndFifoDepthDependsOnFcr() {
        byte[] data = "0123456789abcdefXYZ".getBytes(StandardCharsets.US_ASCII);
        assertEquals(1, uart.receive(data, 0, data.length), "16450 mode: one holding register");
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        assertEquals(0, in(UART_LSR) & UART_LSR_DR, "enabling the FIFO cleared the receiver");
        assertEquals(16, uart.receive(data, 0, data.length));
        assertEquals(0, uart.receive(data, 16, 3));
        assertEquals(0, in(UART_LSR) & 0x02, "no overrun from the host side");
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
        assertEquals(0, in(UART_LSR) & UART_LSR_DR);
    }

    @Test
    void overrunIn16450ModeKeepsTheNewestCharacter() {
        out(UART_MCR, UART_MCR_LOOP);
        out(UART_TX, 'a');
        out(UART_TX, 'b');
        assertEquals(UART_LSR_DR | 0x02 | UART_LSR_THRE | UART_LSR_TEMT, in(UART_LSR));
        assertEquals('b', in(UART_RX));
        assertEquals(UART_LSR_THRE | UART_LSR_TEMT, in(UART_LSR), "OE cleared by the previous LSR read");
    }

    @Test
    void loopbackDisconnectsSerialInputAndLoopsModemLines() {
        out(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | 0x04); // DTR -> DSR, OUT1 -> RI
        assertEquals(0x60, in(UART_MSR) & 0xF0);
        assertEquals(0, uart.receive(new byte[] {1}, 0, 1));
        out(UART_MCR, UART_MCR_LOOP);
        assertEquals(0x04 | 0x02, in(UART_MSR) & 0x0F, "TERI on RI's trailing edge, DDSR");
        out(UART_MCR, 0);
        assertEquals(0xB0, in(UART_MSR) & 0xF0);
        assertTrue(uart.receive((byte) 1));
    }

    @Test
    void dlabMapsDivisorLatchesOverRbrAndIer() {
        out(UART_IER, 0x05);
        out(UART_LCR, 0x83);
        out(UART_DLL, 0x0C);
        out(UART_DLM, 0x34);
        assertEquals(0x0C, in(UART_DLL));
        assertEquals(0x34, in(UART_DLM));
        assertEquals(0, sent.size(), "a DLL write is not a transmission");
        out(UART_LCR, 0x03);
        assertEquals(0x05, in(UART_IER));
        assertEquals(0x03, in(UART_LCR));
    }

    @Test
    void iirFifoBitsFollowFcr() {
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
        assertEquals(0xC1, in(UART_IIR), "bits 4-5 stay 0: no 64-byte FIFO");
        out(UART_FCR, 0);
        assertEquals(0x01, in(UART_IIR));
    }

    @Test
    void unusedBitsReadZero() {
        out(UART_IER, 0xFF);
        assertEquals(0x0F, in(UART_IER));
        out(UART_MCR, 0xEF);
        assertEquals(0x0F, in(UART_MCR));
    }

    @Test
    void wideAccessSplitsIntoBytes() {
        uart.write(UART_LCR, 2, 0x0B03); // LCR = 0x03, MCR = 0x0B
        assertEquals(0x0B03, uart.read(UART_LCR, 2));
        assertEquals(0xFF, uart.read(8, 1), "beyond the eight registers: floating bus");
    }

    @Test
    void consoleOutputThroughInterruptsNeverTooMuchWork() {
        linux.autoconfig();
        linux.startup();
        byte[] text = new byte[4096]; // UART_XMIT_SIZE: the most one interrupt can find queued
        for (int i = 0; i < text.length; i++) text[i] = (byte) ('a' + i % 26);
        linux.write(text);
        assertTrue(irq.level());
        int passes = linux.interrupt();
        assertTrue(passes <= PASS_LIMIT, passes + " passes");
        assertFalse(irq.level(), "idle after the buffer drained");
        assertArrayEquals(text, sent.toByteArray());
    }

    @Test
    void hostThreadFeedsGuestInterruptHandlerWithoutLoss() throws Exception {
        linux.autoconfig();
        linux.startup();
        byte[] input = new byte[20_000];
        for (int i = 0; i < input.length; i++) input[i] = (byte) i;
        Thread feeder = new Thread(() -> {
            int off = 0;
            try {
                while (off < input.length) {
                    off += uart.receive(input, off, input.length - off);
                    if (off < input.length) uart.awaitReceiveSpace(1, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        feeder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int maxPasses = 0;
        while (linux.received.size() < input.length && System.nanoTime() < deadline) {
            if (irq.level()) maxPasses = Math.max(maxPasses, linux.interrupt());
            else Thread.onSpinWait();
        }
        feeder.join(1000);
        assertArrayEquals(input, linux.received.toByteArray());
        assertTrue(maxPasses <= PASS_LIMIT, maxPasses + " passes");
    }

    @Test
    void awaitReceiveSpaceWakesWhenTheGuestReads() throws Exception {
        assertTrue(uart.receive((byte) 1));
        assertFalse(uart.awaitReceiveSpace(1, TimeUnit.MILLISECONDS));
        Thread reader = new Thread(() -> in(UART_RX));
        reader.start();
        assertTrue(uart.awaitReceiveSpace(5, TimeUnit.SECONDS));
        reader.join();
    }

    @Test
    void interruptLineOnlyCalledOnChange() {
        out(UART_MCR, UART_MCR_OUT2);
        out(UART_IER, UART_IER_THRI);
        for (int i = 0; i < 100; i++) out(UART_TX, 'z');
        assertEquals(1, irq.risingEdges.get());
        assertEquals(0, irq.redundantCalls.get());
    }

    @Test
    void registersAreNamedAsInTheDatasheetByDirectionAndDlab() {
        assertEquals("uart", uart.name());
        assertEquals("THR", uart.register(UART_TX, true, 'A'));
        assertEquals("RBR", uart.register(UART_RX, false, 0));
        assertEquals("IER", uart.register(UART_IER, true, 0));
        assertEquals("FCR", uart.register(UART_FCR, true, 0));
        assertEquals("IIR", uart.register(UART_IIR, false, 1));
        assertEquals("LSR", uart.register(UART_LSR, false, 0x60));
        out(UART_LCR, UART_LCR_CONF_MODE_A); // DLAB
        assertEquals("DLL", uart.register(UART_DLL, true, 1));
        assertEquals("DLM", uart.register(UART_DLM, false, 0));
        assertEquals("LCR", uart.register(UART_LCR, true, UART_LCR_CONF_MODE_A));
    }

    @Test
    void countsBytesSentAndReceivedButNotLoopback() {
        for (char c : "hi\n".toCharArray()) out(UART_TX, c);
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        assertEquals(2, uart.receive("ok".getBytes(StandardCharsets.US_ASCII), 0, 2));
        out(UART_MCR, UART_MCR_LOOP);
        out(UART_TX, 'x');
        assertEquals(java.util.Map.of("tx_bytes", 3L, "rx_bytes", 2L), uart.counters());
    }
}
