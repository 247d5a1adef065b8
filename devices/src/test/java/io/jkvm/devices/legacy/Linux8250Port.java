package io.jkvm.devices.legacy;

import java.io.ByteArrayOutputStream;

/**
 * Replays, register access by register access, what Linux 6.1's drivers/tty/serial/8250/8250_port.c
 * does to a PC UART: autoconfig() with the full 16550A variant probe (UPF_FULL_PROBE), the THRE and
 * TX-enable tests of serial8250_do_startup(), and the interrupt handler loop of serial8250_interrupt().
 * The decisions are the driver's; the register values come from the model under test.
 */
final class Linux8250Port {
    // include/uapi/linux/serial_reg.h
    static final int UART_RX = 0, UART_TX = 0, UART_DLL = 0, UART_IER = 1, UART_DLM = 1, UART_IIR = 2, UART_FCR = 2,
            UART_EFR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7;
    static final int UART_LCR_CONF_MODE_A = 0x80, UART_LCR_CONF_MODE_B = 0xBF, UART_LCR_WLEN8 = 0x03;
    static final int UART_IER_RDI = 0x01, UART_IER_THRI = 0x02, UART_IER_RLSI = 0x04, UART_IER_UUE = 0x40;
    static final int UART_IIR_NO_INT = 0x01;
    static final int UART_FCR_ENABLE_FIFO = 0x01, UART_FCR_CLEAR_RCVR = 0x02, UART_FCR_CLEAR_XMIT = 0x04,
            UART_FCR7_64BYTE = 0x20, UART_FCR_R_TRIG_10 = 0x80;
    static final int UART_MCR_DTR = 0x01, UART_MCR_RTS = 0x02, UART_MCR_OUT2 = 0x08, UART_MCR_LOOP = 0x10;
    static final int UART_LSR_DR = 0x01, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40;
    static final int PASS_LIMIT = 512; // 8250_core.c: "too much work for irq%d"
    static final int TX_LOADSZ = 16; // uart_config[PORT_16550A].tx_loadsz

    private final Uart16550 uart;
    boolean bugThre;
    boolean bugTxen;
    int ier;
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private byte[] xmit = new byte[0];
    private int xmitTail;

    Linux8250Port(Uart16550 uart) {
        this.uart = uart;
    }

    int in(int reg) {
        return (int) uart.read(reg, 1);
    }

    void out(int reg, int value) {
        uart.write(reg, 1, value & 0xFF);
    }

    /** autoconfig(): the port type name uart_config[] would give, or why the probe failed. */
    String autoconfig() {
        int scratch = in(UART_IER);
        out(UART_IER, 0);
        int scratch2 = in(UART_IER) & 0x0f;
        out(UART_IER, 0x0F);
        int scratch3 = in(UART_IER) & 0x0f;
        out(UART_IER, scratch);
        if (scratch2 != 0 || scratch3 != 0x0F) return "IER test failed";

        int saveMcr = in(UART_MCR);
        int saveLcr = in(UART_LCR);
        out(UART_MCR, UART_MCR_LOOP | 0x0A);
        int status1 = in(UART_MSR) & 0xF0;
        out(UART_MCR, saveMcr);
        if (status1 != 0x90) return "LOOP test failed";

        out(UART_LCR, UART_LCR_CONF_MODE_B);
        out(UART_EFR, 0);
        out(UART_LCR, 0);
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        int iir = in(UART_IIR);
        String type = switch (iir >> 6) {
            case 0 -> autoconfig8250();
            case 1 -> "unknown";
            case 2 -> "16550";
            default -> autoconfig16550a();
        };
        out(UART_LCR, saveLcr);
        out(UART_MCR, saveMcr);
        clearFifos();
        in(UART_RX);
        out(UART_IER, 0);
        return type;
    }

    private String autoconfig8250() {
        int scratch = in(UART_SCR);
        out(UART_SCR, 0xa5);
        int status1 = in(UART_SCR);
        out(UART_SCR, 0x5a);
        int status2 = in(UART_SCR);
        out(UART_SCR, scratch);
        return status1 == 0xa5 && status2 == 0x5a ? "16450" : "8250";
    }

    private String autoconfig16550a() {
        out(UART_LCR, UART_LCR_CONF_MODE_A);
        if (in(UART_EFR) == 0) return "16650 or FSL64 (EFR present with DLAB)";
        out(UART_LCR, UART_LCR_CONF_MODE_B);
        if (in(UART_EFR) == 0) return "EFRv2 (16650V2 family)";

        out(UART_LCR, 0);
        int status1 = in(UART_MCR);
        out(UART_LCR, 0xE0);
        int status2 = in(0x02); // EXCR1
        if (((status2 ^ status1) & UART_MCR_LOOP) == 0) {
            out(UART_LCR, 0);
            out(UART_MCR, status1 ^ UART_MCR_LOOP);
            out(UART_LCR, 0xE0);
            status2 = in(0x02);
            out(UART_LCR, 0);
            out(UART_MCR, status1);
            if (((status2 ^ status1) & UART_MCR_LOOP) != 0) return "NS16550A";
        }

        out(UART_LCR, 0);
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
        status1 = in(UART_IIR) >> 5;
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        out(UART_LCR, UART_LCR_CONF_MODE_A);
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
        status2 = in(UART_IIR) >> 5;
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        out(UART_LCR, 0);
        if (status1 == 6 && status2 == 7) return "TI16750";

        int iersave = in(UART_IER);
        out(UART_IER, iersave & ~UART_IER_UUE);
        if ((in(UART_IER) & UART_IER_UUE) == 0) {
            out(UART_IER, iersave | UART_IER_UUE);
            if ((in(UART_IER) & UART_IER_UUE) != 0) return "XScale";
        }
        out(UART_IER, iersave);
        return sizeFifo() == 64 ? "U6_16550A" : "16550A";
    }

    /** size_fifo(): loop 256 bytes back and count how many the receiver kept. */
    int sizeFifo() {
        int oldLcr = in(UART_LCR);
        out(UART_LCR, 0);
        int oldFcr = in(UART_FCR);
        int oldMcr = in(UART_MCR);
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
        out(UART_MCR, UART_MCR_LOOP);
        out(UART_LCR, UART_LCR_CONF_MODE_A);
        int oldDl = in(UART_DLL) | in(UART_DLM) << 8;
        out(UART_DLL, 1);
        out(UART_DLM, 0);
        out(UART_LCR, UART_LCR_WLEN8);
        for (int count = 0; count < 256; count++) out(UART_TX, count);
        int count = 0;
        while ((in(UART_LSR) & UART_LSR_DR) != 0 && count < 256) {
            in(UART_RX);
            count++;
        }
        out(UART_FCR, oldFcr);
        out(UART_MCR, oldMcr);
        out(UART_LCR, UART_LCR_CONF_MODE_A);
        out(UART_DLL, oldDl);
        out(UART_DLM, oldDl >> 8);
        out(UART_LCR, oldLcr);
        return count;
    }

    void clearFifos() {
        out(UART_FCR, UART_FCR_ENABLE_FIFO);
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
        out(UART_FCR, 0);
    }

    /** serial8250_do_startup() for a port with an IRQ, then set_termios() at 115200 8N1 with FIFOs. */
    void startup() {
        clearFifos();
        in(UART_LSR);
        in(UART_RX);
        in(UART_IIR);
        in(UART_MSR);
        if (in(UART_LSR) == 0xff) throw new IllegalStateException("LSR safety check engaged");

        while ((in(UART_LSR) & UART_LSR_THRE) == 0) Thread.onSpinWait(); // wait_for_xmitr
        out(UART_IER, UART_IER_THRI);
        int iir1 = in(UART_IIR);
        out(UART_IER, 0);
        out(UART_IER, UART_IER_THRI);
        int iir = in(UART_IIR);
        out(UART_IER, 0);
        bugThre = (iir1 & UART_IIR_NO_INT) == 0 && (iir & UART_IIR_NO_INT) != 0;

        out(UART_LCR, UART_LCR_WLEN8);
        out(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);

        out(UART_IER, UART_IER_THRI);
        int lsr = in(UART_LSR);
        iir = in(UART_IIR);
        out(UART_IER, 0);
        bugTxen = (lsr & UART_LSR_TEMT) != 0 && (iir & UART_IIR_NO_INT) != 0;

        in(UART_LSR);
        in(UART_RX);
        in(UART_IIR);
        in(UART_MSR);

        // serial8250_do_set_termios: divisor 1, 8N1, FIFO trigger 8, then the shadow IER.
        out(UART_LCR, UART_LCR_WLEN8 | UART_LCR_CONF_MODE_A);
        out(UART_DLL, 1);
        out(UART_DLM, 0);
        out(UART_LCR, UART_LCR_WLEN8);
        out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
        ier = UART_IER_RLSI | UART_IER_RDI;
        out(UART_IER, ier);
    }

    /** uart_write() + serial8250_start_tx(): queue bytes and enable the THRE interrupt. */
    void write(byte[] data) {
        byte[] rest = java.util.Arrays.copyOfRange(xmit, xmitTail, xmit.length);
        xmit = new byte[rest.length + data.length];
        System.arraycopy(rest, 0, xmit, 0, rest.length);
        System.arraycopy(data, 0, xmit, rest.length, data.length);
        xmitTail = 0;
        if ((ier & UART_IER_THRI) == 0) {
            ier |= UART_IER_THRI;
            out(UART_IER, ier);
        }
    }

    /**
     * serial8250_interrupt() for this one port: call the handler until the IIR says no interrupt.
     *
     * @return the number of passes that found work; above {@link #PASS_LIMIT} Linux logs "too much work"
     */
    int interrupt() {
        int passes = 0;
        while (handleIrq()) passes++;
        return passes;
    }

    /** serial8250_default_handle_irq() / serial8250_handle_irq(). */
    private boolean handleIrq() {
        int iir = in(UART_IIR);
        if ((iir & UART_IIR_NO_INT) != 0) return false;
        int lsr = in(UART_LSR);
        if ((lsr & UART_LSR_DR) != 0) {
            int max = 256;
            do {
                received.write(in(UART_RX));
                if (--max == 0) break;
                lsr = in(UART_LSR);
            } while ((lsr & UART_LSR_DR) != 0);
        }
        in(UART_MSR);
        if ((lsr & UART_LSR_THRE) != 0 && (ier & UART_IER_THRI) != 0) txChars();
        return true;
    }

    /** serial8250_tx_chars(): up to tx_loadsz bytes, then stop_tx when the buffer is empty. */
    private void txChars() {
        if (xmitTail == xmit.length) {
            stopTx();
            return;
        }
        int count = TX_LOADSZ;
        do {
            out(UART_TX, xmit[xmitTail++]);
        } while (xmitTail < xmit.length && --count > 0);
        if (xmitTail == xmit.length) stopTx();
    }

    private void stopTx() {
        ier &= ~UART_IER_THRI;
        out(UART_IER, ier);
    }
}
