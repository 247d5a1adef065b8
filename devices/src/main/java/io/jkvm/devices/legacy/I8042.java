package io.jkvm.devices.legacy;

import io.jkvm.bus.BusDevice;
import io.jkvm.bus.InterruptLine;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.util.Objects;

/**
 * The PS/2 keyboard controller (Intel 8042 / IBM PC/AT and PS/2 "KBC") with a keyboard on its first port
 * ({@link Ps2Keyboard}, there so the host can send Ctrl-Alt-Del, {@link #pressCtrlAltDel()}) and nothing
 * on the AUX port — enough for Linux's i8042 driver to find the controller, pass its self-tests, find an
 * AUX port, bind atkbd to the keyboard and no mouse driver, without a single timeout.
 *
 * <p>Two ports, each its own {@link BusDevice}: {@link #dataPort()} (0x60 on a PC, register with
 * length 1) and {@link #commandPort()} (0x64, status on read, command on write). Two ranges rather
 * than one window [0x60, 0x65) so that 0x61–0x63 (PC speaker / NMI status) stay free for others.
 *
 * <p>Commands (IBM PS/2 Technical Reference, keyboard/auxiliary device controller; names as in
 * Linux include/linux/i8042.h): 0x20 read and 0x60 write the command byte (CTR); 0xA7/0xA8 disable /
 * enable the AUX interface; 0xA9 AUX interface test (→ 0x00); 0xAA self-test (→ 0x55); 0xAB keyboard
 * interface test (→ 0x00); 0xAD/0xAE disable / enable the keyboard interface; 0xD0/0xD1 read / write
 * the output port; 0xD2/0xD3 write the keyboard / AUX output buffer (Linux's AUX loopback probe);
 * 0xD4 write to the AUX device; 0xF0–0xFF pulse output port bits 0–3 low, where bit 0 is the
 * system reset line (0xFE), so that calls the injected reset callback.
 *
 * <p>A data port write with no command waiting for it goes to the keyboard, whose replies fill the
 * output buffer. A byte for the AUX device (after 0xD4) finds none: the controller answers 0xFE with the
 * status time-out bit set, as a real 8042 does when its transmission times out, so Linux's psmouse gets a
 * NAK at once and binds nothing.
 *
 * <p>The output buffer raises IRQ 1 (keyboard data, CTR bit 0) or IRQ 12 (AUX data, CTR bit 1) as a
 * level while full; each new byte in the buffer is a new rising edge for the edge-triggered ISA PIC.
 * Commands complete at once, so the input buffer is never full (status IBF = 0). Thread-safe.
 *
 * <p>Its saved state is the command byte, the output port, the bytes queued for the output buffer with their
 * status flags, a command waiting for its data byte, and the keyboard's; a restore drives IRQ 1 and 12 as the
 * restored output buffer says.
 */
public final class I8042 implements Stateful {
    // Status register (read at 0x64).
    private static final int STR_OBF = 0b0000_0001;
    private static final int STR_SYSFLAG = 0b0000_0100; // mirrors CTR bit 2
    private static final int STR_CMDDAT = 0b0000_1000; // last write was to the command port
    private static final int STR_KEYLOCK = 0b0001_0000; // 1 = keyboard not inhibited by the key lock
    private static final int STR_AUXDATA = 0b0010_0000;
    private static final int STR_TIMEOUT = 0b0100_0000;

    // Controller command byte (CTR).
    private static final int CTR_KBDINT = 0b0000_0001;
    private static final int CTR_AUXINT = 0b0000_0010;
    private static final int CTR_SYSFLAG = 0b0000_0100;
    private static final int CTR_KBDDIS = 0b0001_0000;
    private static final int CTR_AUXDIS = 0b0010_0000;
    private static final int CTR_XLATE = 0b0100_0000;
    /** What a PC BIOS leaves: keyboard interrupt on, POST passed, scan-code translation on. */
    private static final int CTR_AT_BOOT = CTR_XLATE | CTR_SYSFLAG | CTR_KBDINT;

    // Commands.
    private static final int CMD_READ_CTR = 0x20;
    private static final int CMD_WRITE_CTR = 0x60;
    private static final int CMD_AUX_DISABLE = 0xA7;
    private static final int CMD_AUX_ENABLE = 0xA8;
    private static final int CMD_AUX_TEST = 0xA9;
    private static final int CMD_SELF_TEST = 0xAA;
    private static final int CMD_KBD_TEST = 0xAB;
    private static final int CMD_KBD_DISABLE = 0xAD;
    private static final int CMD_KBD_ENABLE = 0xAE;
    private static final int CMD_READ_OUTPUT_PORT = 0xD0;
    private static final int CMD_WRITE_OUTPUT_PORT = 0xD1;
    private static final int CMD_KBD_LOOP = 0xD2;
    private static final int CMD_AUX_LOOP = 0xD3;
    private static final int CMD_AUX_SEND = 0xD4;
    private static final int CMD_PULSE_OUTPUT_PORT = 0xF0; // 0xF0-0xFF: low nibble = bits to pulse low
    private static final int NO_COMMAND = -1;

    private static final int SELF_TEST_PASSED = 0x55;
    private static final int INTERFACE_TEST_PASSED = 0x00;
    private static final int DEVICE_NAK = 0xFE;

    // Output port: bit 0 = system reset (active low), bit 1 = A20 gate.
    private static final int OUTPUT_PORT_RESET = 0b0000_0001;
    private static final int OUTPUT_PORT_AT_BOOT = 0b0000_0011;

    /** Bytes queued for the output buffer; the 8042 holds one, firmware queues the rest. */
    private static final int QUEUE_DEPTH = 16;

    private final LevelPin keyboardIrq;
    private final LevelPin auxIrq;
    private final Runnable resetRequest;
    private final BusDevice dataPort = new DataPort();
    private final BusDevice commandPort = new CommandPort();
    private final Ps2Keyboard keyboard = new Ps2Keyboard(b -> output(b, 0), this::translating);

    /** Each entry: data byte in bits 0-7, its STR_AUXDATA / STR_TIMEOUT flags in bits 8-15. */
    private final int[] queue = new int[QUEUE_DEPTH];
    private int queueHead;
    private int queueCount;
    private int lastOutput;
    private int ctr = CTR_AT_BOOT;
    private int outputPort = OUTPUT_PORT_AT_BOOT;
    private int pendingCommand = NO_COMMAND;
    private boolean lastWriteWasCommand;

    /**
     * @param keyboardIrq  IRQ 1
     * @param auxIrq       IRQ 12; Linux checks AUX interrupt delivery and drops the AUX port without it
     * @param resetRequest called (without this controller's lock) when the guest pulses the reset line
     */
    public I8042(InterruptLine keyboardIrq, InterruptLine auxIrq, Runnable resetRequest) {
        this.keyboardIrq = new LevelPin(keyboardIrq);
        this.auxIrq = new LevelPin(auxIrq);
        this.resetRequest = Objects.requireNonNull(resetRequest, "resetRequest");
    }

    /** The data port, 0x60 on a PC: output buffer on read, command parameter or device byte on write. */
    public BusDevice dataPort() {
        return dataPort;
    }

    /** The status (read) / command (write) port, 0x64 on a PC. */
    public BusDevice commandPort() {
        return commandPort;
    }

    /** Names as Linux's include/linux/i8042.h: I8042_DATA_REG at 0x60. */
    private final class DataPort extends ByteRegisters {
        @Override
        public String name() {
            return "i8042";
        }

        @Override
        public String register(long offset, boolean write, long value) {
            return offset == 0 ? "data" : super.register(offset, write, value);
        }

        @Override
        int readByte(long offset) {
            return offset == 0 ? readData() : FLOATING_BUS;
        }

        @Override
        void writeByte(long offset, int value) {
            if (offset == 0 && writeData(value)) resetRequest.run();
        }
    }

    /** I8042_STATUS_REG (read) and I8042_COMMAND_REG (write) at 0x64. */
    private final class CommandPort extends ByteRegisters {
        @Override
        public String name() {
            return "i8042";
        }

        @Override
        public String register(long offset, boolean write, long value) {
            return offset != 0 ? super.register(offset, write, value) : write ? "command" : "status";
        }

        @Override
        int readByte(long offset) {
            return offset == 0 ? readStatus() : FLOATING_BUS;
        }

        @Override
        void writeByte(long offset, int value) {
            if (offset == 0 && writeCommand(value)) resetRequest.run();
        }
    }

    /**
     * The host presses Ctrl-Alt-Del on the keyboard (and lets go): a guest whose keyboard driver is bound
     * and scanning reads the keys and reboots itself, as Linux does (kernel/reboot.c, ctrl_alt_del). Returns
     * false if the guest has disabled the keyboard, so no key could be sent.
     */
    public synchronized boolean pressCtrlAltDel() {
        boolean typed = keyboard.typeCtrlAltDel();
        updateIrqs();
        return typed;
    }

    private synchronized int readStatus() {
        int status = STR_KEYLOCK | (ctr & CTR_SYSFLAG) | (lastWriteWasCommand ? STR_CMDDAT : 0);
        if (queueCount > 0) status |= STR_OBF | queue[queueHead] >>> 8;
        return status;
    }

    private synchronized int readData() {
        if (queueCount > 0) {
            lastOutput = queue[queueHead] & 0xFF;
            queueHead = (queueHead + 1) % QUEUE_DEPTH;
            queueCount--;
            lowerIrqs(); // the buffer empties; a queued byte refills it with a fresh edge
            updateIrqs();
        }
        return lastOutput;
    }

    /** @return true if the write asks for a system reset */
    private synchronized boolean writeCommand(int command) {
        lastWriteWasCommand = true;
        pendingCommand = NO_COMMAND;
        boolean reset = false;
        switch (command) {
            case CMD_READ_CTR -> output(ctr, 0);
            case CMD_AUX_DISABLE -> ctr |= CTR_AUXDIS;
            case CMD_AUX_ENABLE -> ctr &= ~CTR_AUXDIS;
            case CMD_AUX_TEST, CMD_KBD_TEST -> output(INTERFACE_TEST_PASSED, 0);
            case CMD_SELF_TEST -> {
                ctr |= CTR_SYSFLAG;
                output(SELF_TEST_PASSED, 0);
            }
            case CMD_KBD_DISABLE -> ctr |= CTR_KBDDIS;
            case CMD_KBD_ENABLE -> ctr &= ~CTR_KBDDIS;
            case CMD_READ_OUTPUT_PORT -> output(outputPort, 0);
            case CMD_WRITE_CTR, CMD_WRITE_OUTPUT_PORT, CMD_KBD_LOOP, CMD_AUX_LOOP, CMD_AUX_SEND ->
                    pendingCommand = command;
            default -> reset = command >= CMD_PULSE_OUTPUT_PORT && (command & OUTPUT_PORT_RESET) == 0;
        }
        updateIrqs();
        return reset;
    }

    /** @return true if the write asks for a system reset */
    private synchronized boolean writeData(int value) {
        lastWriteWasCommand = false;
        int command = pendingCommand;
        pendingCommand = NO_COMMAND;
        boolean reset = false;
        switch (command) {
            case CMD_WRITE_CTR -> ctr = value;
            case CMD_WRITE_OUTPUT_PORT -> {
                outputPort = value;
                reset = (value & OUTPUT_PORT_RESET) == 0;
            }
            case CMD_KBD_LOOP -> output(value, 0);
            case CMD_AUX_LOOP -> output(value, STR_AUXDATA);
            case CMD_AUX_SEND -> output(DEVICE_NAK, STR_AUXDATA | STR_TIMEOUT);
            default -> keyboard.receive(value);
        }
        updateIrqs();
        return reset;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.u32(queueCount);
        for (int i = 0; i < queueCount; i++) out.u16(queue[(queueHead + i) % QUEUE_DEPTH]);
        out.u8(lastOutput).u8(ctr).u8(outputPort).u32(pendingCommand).bool(lastWriteWasCommand);
        out.section("keyboard", keyboard);
    }

    @Override
    public synchronized void restoreState(StateReader in) {
        int count = in.u32InRange("the i8042 output queue length", 0, QUEUE_DEPTH);
        for (int i = 0; i < count; i++) {
            int entry = in.u16();
            if ((entry >>> 8 & ~(STR_AUXDATA | STR_TIMEOUT)) != 0)
                throw new SnapshotFormatException(String.format("i8042 output byte %#x has status flags it cannot carry", entry));
            queue[i] = entry;
        }
        queueHead = 0;
        queueCount = count;
        lastOutput = in.u8();
        ctr = in.u8();
        outputPort = in.u8();
        pendingCommand = in.u32();
        switch (pendingCommand) {
            case NO_COMMAND, CMD_WRITE_CTR, CMD_WRITE_OUTPUT_PORT, CMD_KBD_LOOP, CMD_AUX_LOOP, CMD_AUX_SEND -> { }
            default -> throw new SnapshotFormatException(String.format(
                    "the i8042 waits for the data of command %#x, which takes none", pendingCommand));
        }
        lastWriteWasCommand = in.bool();
        in.section("keyboard", keyboard);
        updateIrqs();
    }

    private boolean translating() {
        return (ctr & CTR_XLATE) != 0;
    }

    private void output(int value, int statusFlags) {
        if (queueCount == QUEUE_DEPTH) return; // firmware would wait; the guest has stopped reading
        queue[(queueHead + queueCount++) % QUEUE_DEPTH] = statusFlags << 8 | value;
    }

    private void lowerIrqs() {
        keyboardIrq.drive(false);
        auxIrq.drive(false);
    }

    private void updateIrqs() {
        boolean full = queueCount > 0;
        boolean aux = full && (queue[queueHead] >>> 8 & STR_AUXDATA) != 0;
        keyboardIrq.drive(full && !aux && (ctr & CTR_KBDINT) != 0);
        auxIrq.drive(aux && (ctr & CTR_AUXINT) != 0);
    }
}
