package io.jkvm.devices.legacy;

import io.jkvm.bus.InterruptLine;
import io.jkvm.devices.DeviceCounters;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The National Semiconductor PC16550D UART ("16550A") as a register model: eight byte registers at
 * offsets 0–7 (datasheet Table II), a 16-byte receiver FIFO the host feeds through {@link #receive},
 * and a transmitter that sends every byte the instant the guest writes it, so THR and the transmitter
 * shift register are always empty again (LSR THRE = TEMT = 1) and the THR-empty interrupt re-arms at once.
 *
 * <p>The INTR pin is driven onto an {@link InterruptLine} as a level: asserted while an enabled
 * interrupt is pending (IIR bit 0 = 0), gated by MCR OUT2 as on a PC, where OUT2 enables the IRQ
 * driver, and never in loopback mode, which forces OUT2 inactive (datasheet, Modem Control Register bit 4).
 *
 * <p>Register access (a vCPU thread) and {@link #receive} (a host console thread) may run concurrently;
 * all state is guarded by one lock, and the interrupt line and transmitter are called with it held, so
 * they see events in order. The transmitter must therefore not call back into this UART, and must not
 * block: a vCPU waits in it, and so does {@link #receive} (the machine gives it a bounded, dropping buffer).
 *
 * <p>Not modelled: baud timing, parity/framing/break errors (LSR bits 2–4 and 7 stay 0), the
 * transmitter FIFO (never needed: it is always empty), DMA mode (FCR bit 3 is accepted and ignored).
 * The character-timeout interrupt (IIR = 0xC4 | 0x08) fires as soon as the RX FIFO holds fewer bytes
 * than the trigger level, since no line time passes here; a guest sees the same as after four idle
 * character times.
 *
 * <p>Its saved state is every register, the bytes waiting in the receiver (oldest first) and the pending
 * THR-empty interrupt; a restore checks each against what the registers can hold and drives INTR as the
 * restored registers say.
 */
public final class Uart16550 extends ByteRegisters implements Stateful, DeviceCounters {
    /** Ports the UART decodes (address lines A0–A2). */
    public static final int PORT_COUNT = 8;

    // Register offsets, datasheet Table II; DLAB = LCR bit 7 maps DLL/DLM over RBR/THR and IER.
    private static final int RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

    // IER (datasheet, Interrupt Enable Register): the four interrupt enables; bits 4-7 are always 0 on a 16550.
    private static final int IER_ERBFI = 0b0001, IER_ETBEI = 0b0010, IER_ELSI = 0b0100, IER_EDSSI = 0b1000;
    private static final int IER_WRITABLE = 0b1111;

    // IIR (Table IV): bit 0 = 1 means "no interrupt pending"; identification codes in priority order.
    private static final int IIR_NONE = 0b0001;
    private static final int IIR_LINE_STATUS = 0b0110;
    private static final int IIR_RX_DATA = 0b0100;
    private static final int IIR_CHAR_TIMEOUT = 0b1100;
    private static final int IIR_THR_EMPTY = 0b0010;
    private static final int IIR_MODEM_STATUS = 0b0000;
    private static final int IIR_FIFOS_ENABLED = 0b1100_0000;

    // FCR (datasheet, FIFO Control Register): FCR0 enables both FIFOs; the other bits only take effect while FCR0 = 1.
    private static final int FCR_FIFO_ENABLE = 0b0000_0001;
    private static final int FCR_RX_RESET = 0b0000_0010;
    private static final int RX_TRIGGER_SHIFT = 6;
    private static final int[] RX_TRIGGER_LEVELS = {1, 4, 8, 14};

    private static final int LCR_DLAB = 0b1000_0000;

    // MCR (datasheet, Modem Control Register): bits 5-7 are always 0.
    private static final int MCR_DTR = 0b0_0001, MCR_RTS = 0b0_0010, MCR_OUT1 = 0b0_0100, MCR_OUT2 = 0b0_1000;
    private static final int MCR_LOOP = 0b1_0000;
    private static final int MCR_WRITABLE = 0b1_1111;

    // LSR (datasheet, Line Status Register).
    private static final int LSR_DR = 0b0000_0001, LSR_OE = 0b0000_0010;
    private static final int LSR_THRE = 0b0010_0000, LSR_TEMT = 0b0100_0000;

    // MSR (datasheet, Modem Status Register): deltas in bits 0-3, each the input state bit (4-7) shifted down by four.
    private static final int MSR_CTS = 0b0001_0000, MSR_DSR = 0b0010_0000, MSR_RI = 0b0100_0000, MSR_DCD = 0b1000_0000;
    private static final int MSR_DELTA_SHIFT = 4;
    private static final int MSR_LEVEL_DELTAS = MSR_CTS | MSR_DSR | MSR_DCD; // RI reports its trailing edge (TERI)

    private static final int FIFO_DEPTH = 16;

    private final LevelPin intr;
    private final IntConsumer transmitter;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition rxSpace = lock.newCondition();

    private final byte[] rxFifo = new byte[FIFO_DEPTH];
    private int rxHead;
    private int rxCount;
    private int rbr;
    private int ier;
    private int lcr;
    private int mcr;
    private int scr;
    private int dll;
    private int dlm;
    private boolean fifosEnabled;
    private int rxTrigger = RX_TRIGGER_LEVELS[0];
    private int lineErrors;
    private int modemDeltas;
    private boolean thrEmptyInterrupt;
    private long txBytes; // to the transmitter
    private long rxBytes; // accepted from the serial input

    /**
     * @param intr        the line behind the INTR pin (IRQ 4 for COM1), driven as a level
     * @param transmitter receives each transmitted byte (0–255), with this UART's lock held
     */
    public Uart16550(InterruptLine intr, IntConsumer transmitter) {
        this.intr = new LevelPin(intr);
        this.transmitter = Objects.requireNonNull(transmitter, "transmitter");
    }

    /**
     * Feeds bytes arriving on the serial input into the receiver, as many as fit: 16 with FIFOs
     * enabled, 1 without. Never overruns — the caller keeps what was not accepted and may
     * {@link #awaitReceiveSpace wait} for room. Returns 0 in loopback mode, where the serial input is
     * disconnected. Safe to call from any thread.
     *
     * @return the number of bytes accepted, from {@code data[off]} on
     */
    public int receive(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        lock.lock();
        try {
            if (loopback()) return 0;
            int accepted = Math.min(len, rxCapacity() - rxCount);
            for (int i = 0; i < accepted; i++)
                rxFifo[(rxHead + rxCount++) % FIFO_DEPTH] = data[off + i];
            rxBytes += accepted;
            updateIntr();
            return accepted;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #receive(byte[], int, int)} for one byte; true if it was accepted. */
    public boolean receive(byte b) {
        return receive(new byte[] {b}, 0, 1) == 1;
    }

    /**
     * Waits until the receiver can accept at least one byte from the serial input (room in the RX
     * buffer and not in loopback mode).
     *
     * @return false if the timeout elapsed first
     */
    public boolean awaitReceiveSpace(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (loopback() || rxCount >= rxCapacity()) {
                if (nanos <= 0) return false;
                nanos = rxSpace.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String name() {
        return "uart";
    }

    /** Bytes sent to the host ({@code tx_bytes}) and taken from it ({@code rx_bytes}); loopback is not counted. */
    @Override
    public Map<String, Long> counters() {
        lock.lock();
        try {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("tx_bytes", txBytes);
            m.put("rx_bytes", rxBytes);
            return m;
        } finally {
            lock.unlock();
        }
    }

    /** The register's datasheet name (Table II) for this direction, with DLAB as it is now. */
    @Override
    public String register(long offset, boolean write, long value) {
        boolean dlab;
        lock.lock();
        try {
            dlab = dlab();
        } finally {
            lock.unlock();
        }
        return switch ((int) Math.min(offset, PORT_COUNT)) {
            case RBR_THR_DLL -> dlab ? "DLL" : write ? "THR" : "RBR";
            case IER_DLM -> dlab ? "DLM" : "IER";
            case IIR_FCR -> write ? "FCR" : "IIR";
            case LCR -> "LCR";
            case MCR -> "MCR";
            case LSR -> "LSR";
            case MSR -> "MSR";
            case SCR -> "SCR";
            default -> super.register(offset, write, value);
        };
    }

    @Override
    int readByte(long offset) {
        lock.lock();
        try {
            int value = switch ((int) Math.min(offset, PORT_COUNT)) {
                case RBR_THR_DLL -> dlab() ? dll : readRbr();
                case IER_DLM -> dlab() ? dlm : ier;
                case IIR_FCR -> readIir();
                case LCR -> lcr;
                case MCR -> mcr;
                case LSR -> readLsr();
                case MSR -> readMsr();
                case SCR -> scr;
                default -> FLOATING_BUS;
            };
            updateIntr();
            return value;
        } finally {
            lock.unlock();
        }
    }

    @Override
    void writeByte(long offset, int value) {
        lock.lock();
        try {
            switch ((int) Math.min(offset, PORT_COUNT)) {
                case RBR_THR_DLL -> {
                    if (dlab()) dll = value;
                    else transmit(value);
                }
                case IER_DLM -> {
                    if (dlab()) dlm = value;
                    else writeIer(value);
                }
                case IIR_FCR -> writeFcr(value);
                case LCR -> lcr = value;
                case MCR -> writeMcr(value);
                case SCR -> scr = value;
                default -> { } // LSR and MSR are read-only (datasheet: writing LSR is for factory test only)
            }
            updateIntr();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void saveState(StateWriter out) {
        lock.lock();
        try {
            byte[] waiting = new byte[rxCount];
            for (int i = 0; i < rxCount; i++) waiting[i] = rxFifo[(rxHead + i) % FIFO_DEPTH];
            out.bytes(waiting).u8(rbr).u8(ier).u8(lcr).u8(mcr).u8(scr).u8(dll).u8(dlm).bool(fifosEnabled);
            out.u8(rxTrigger).u8(lineErrors).u8(modemDeltas).bool(thrEmptyInterrupt);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void restoreState(StateReader in) {
        lock.lock();
        try {
            byte[] waiting = in.bytes();
            rbr = in.u8();
            ier = checked("IER", in.u8(), IER_WRITABLE);
            lcr = in.u8();
            mcr = checked("MCR", in.u8(), MCR_WRITABLE);
            scr = in.u8();
            dll = in.u8();
            dlm = in.u8();
            fifosEnabled = in.bool();
            rxTrigger = in.u8();
            lineErrors = checked("the line errors", in.u8(), LSR_OE);
            modemDeltas = checked("the modem status deltas", in.u8(), (MSR_LEVEL_DELTAS | MSR_RI) >>> MSR_DELTA_SHIFT);
            thrEmptyInterrupt = in.bool();
            if (waiting.length > rxCapacity())
                throw new SnapshotFormatException("the UART receiver holds " + waiting.length + " bytes, more than its "
                        + rxCapacity());
            if (Arrays.stream(RX_TRIGGER_LEVELS).noneMatch(level -> level == rxTrigger))
                throw new SnapshotFormatException("the UART receiver trigger level " + rxTrigger + " is none of 1, 4, 8, 14");
            System.arraycopy(waiting, 0, rxFifo, 0, waiting.length);
            rxHead = 0;
            rxCount = waiting.length;
            updateIntr();
        } finally {
            lock.unlock();
        }
    }

    private static int checked(String what, int value, int writable) {
        if ((value & ~writable) != 0)
            throw new SnapshotFormatException(String.format("the UART's %s %#x has bits the register does not hold", what, value));
        return value;
    }

    private boolean dlab() {
        return (lcr & LCR_DLAB) != 0;
    }

    private boolean loopback() {
        return (mcr & MCR_LOOP) != 0;
    }

    private int rxCapacity() {
        return fifosEnabled ? FIFO_DEPTH : 1;
    }

    private int readRbr() {
        if (rxCount > 0) {
            rbr = rxFifo[rxHead] & 0xFF;
            rxHead = (rxHead + 1) % FIFO_DEPTH;
            rxCount--;
            rxSpace.signalAll();
        }
        return rbr; // an empty receiver still shows the last character
    }

    /** Reading IIR while it reports THR empty clears that interrupt (Table IV). */
    private int readIir() {
        int id = pendingInterrupt();
        if (id == IIR_THR_EMPTY) thrEmptyInterrupt = false;
        return id | (fifosEnabled ? IIR_FIFOS_ENABLED : 0);
    }

    /** Reading LSR clears the error bits and with them the line status interrupt. */
    private int readLsr() {
        int value = (rxCount > 0 ? LSR_DR : 0) | lineErrors | LSR_THRE | LSR_TEMT;
        lineErrors = 0;
        return value;
    }

    /** Reading MSR clears the delta bits and with them the modem status interrupt. */
    private int readMsr() {
        int value = modemInputs() | modemDeltas;
        modemDeltas = 0;
        return value;
    }

    private void transmit(int value) {
        thrEmptyInterrupt = false; // writing THR clears the THR-empty interrupt ...
        if (loopback()) receiveFromLine(value);
        else {
            transmitter.accept(value);
            txBytes++;
        }
        thrEmptyInterrupt = true; // ... and the instant transmission empties THR again
    }

    /**
     * A rising edge of ETBEI with THR empty raises the THR-empty interrupt again, even after an IIR read
     * cleared it; clearing ETBEI drops it. Not in the datasheet, but real 16550s do it, Linux's
     * serial8250_do_startup() tests it (else UART_BUG_THRE), and Bochs and QEMU resample on the edge too.
     */
    private void writeIer(int value) {
        int old = ier;
        ier = value & IER_WRITABLE;
        if ((ier & IER_ETBEI) == 0) thrEmptyInterrupt = false;
        else if ((old & IER_ETBEI) == 0) thrEmptyInterrupt = true;
    }

    private void writeFcr(int value) {
        boolean enable = (value & FCR_FIFO_ENABLE) != 0;
        if (enable != fifosEnabled) clearRxFifo(); // changing FCR0 clears both FIFOs (datasheet, FCR bit 0)
        fifosEnabled = enable;
        if (!enable) return;
        if ((value & FCR_RX_RESET) != 0) clearRxFifo();
        rxTrigger = RX_TRIGGER_LEVELS[value >>> RX_TRIGGER_SHIFT];
    }

    private void writeMcr(int value) {
        int before = modemInputs();
        mcr = value & MCR_WRITABLE;
        int after = modemInputs();
        modemDeltas |= (((before ^ after) & MSR_LEVEL_DELTAS) | (before & ~after & MSR_RI)) >>> MSR_DELTA_SHIFT;
        rxSpace.signalAll(); // leaving loopback reconnects the serial input
    }

    /**
     * The modem inputs in MSR bits 4–7. In loopback (MCR bit 4) they are the MCR outputs: CTS = RTS,
     * DSR = DTR, RI = OUT1, DCD = OUT2. Otherwise a modem that is always ready: CTS, DSR and DCD on.
     */
    private int modemInputs() {
        if (!loopback()) return MSR_CTS | MSR_DSR | MSR_DCD;
        return ((mcr & MCR_RTS) != 0 ? MSR_CTS : 0)
                | ((mcr & MCR_DTR) != 0 ? MSR_DSR : 0)
                | ((mcr & MCR_OUT1) != 0 ? MSR_RI : 0)
                | ((mcr & MCR_OUT2) != 0 ? MSR_DCD : 0);
    }

    /**
     * A character completed on the serial input. When the receiver is full it is an overrun (LSR OE):
     * in FIFO mode the new character is lost, in 16450 mode it overwrites RBR (datasheet, LSR bit 1).
     */
    private void receiveFromLine(int value) {
        if (rxCount < rxCapacity()) {
            rxFifo[(rxHead + rxCount++) % FIFO_DEPTH] = (byte) value;
            return;
        }
        lineErrors |= LSR_OE;
        if (!fifosEnabled) rxFifo[rxHead] = (byte) value;
    }

    private void clearRxFifo() {
        rxHead = 0;
        rxCount = 0;
        rxSpace.signalAll();
    }

    /** The IIR identification of the highest-priority enabled pending interrupt (Table IV). */
    private int pendingInterrupt() {
        if ((ier & IER_ELSI) != 0 && lineErrors != 0) return IIR_LINE_STATUS;
        if ((ier & IER_ERBFI) != 0 && rxCount > 0)
            return fifosEnabled && rxCount < rxTrigger ? IIR_CHAR_TIMEOUT : IIR_RX_DATA;
        if ((ier & IER_ETBEI) != 0 && thrEmptyInterrupt) return IIR_THR_EMPTY;
        if ((ier & IER_EDSSI) != 0 && modemDeltas != 0) return IIR_MODEM_STATUS;
        return IIR_NONE;
    }

    private void updateIntr() {
        intr.drive(pendingInterrupt() != IIR_NONE && (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2);
    }
}
