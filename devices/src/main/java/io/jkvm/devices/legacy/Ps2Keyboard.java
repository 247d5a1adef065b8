package io.jkvm.devices.legacy;

import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * The PS/2 keyboard on the i8042's first port: it answers the commands Linux's atkbd sends while probing
 * and activating it (IBM PS/2 Technical Reference, keyboard commands; names as in Linux
 * drivers/input/keyboard/atkbd.c) and types one key combination, Ctrl-Alt-Del, for the host. Every
 * command byte is acknowledged with 0xFA; 0xED (LEDs), 0xF3 (typematic rate) and 0xF0 (scan-code set)
 * take a parameter byte, acknowledged too; 0xF2 answers the MF2 keyboard ID; 0xFF answers 0xAA (self-test
 * passed); 0xF4/0xF5 enable/disable scanning; 0xEE echoes.
 *
 * <p>Keys are made in scan-code set 2; with the controller's translation on (CTR bit 6, what Linux
 * leaves), the host reads them in set 1, so the keyboard hands the controller what the host would read.
 * Not thread-safe: the {@link I8042} calls it under its own lock. Its saved state: a command waiting for
 * its parameter byte, and whether it scans.
 */
final class Ps2Keyboard implements Stateful {
    private static final int CMD_SET_LEDS = 0xED;
    private static final int CMD_ECHO = 0xEE;
    private static final int CMD_SCANCODE_SET = 0xF0;
    private static final int CMD_GET_ID = 0xF2;
    private static final int CMD_SET_REPEAT = 0xF3;
    private static final int CMD_ENABLE = 0xF4;
    private static final int CMD_RESET_DISABLE = 0xF5;
    private static final int CMD_RESET_DEFAULT = 0xF6;
    private static final int CMD_RESET_BAT = 0xFF;
    private static final int NO_COMMAND = -1;

    private static final int ACK = 0xFA;
    private static final int BAT_PASSED = 0xAA;
    /** MF2 keyboard ID: 0xAB 0x83, which the controller's translation turns into 0xAB 0x41. */
    private static final int ID_FIRST = 0xAB, ID_SECOND = 0x83, ID_SECOND_TRANSLATED = 0x41;
    private static final int SET_2 = 0x02;

    /** Ctrl, Alt, Del made, then broken in reverse order: set 2 (0xF0 prefixes a break) ... */
    private static final int[] CTRL_ALT_DEL_SET2 = {0x14, 0x11, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xF0, 0x11, 0xF0, 0x14};
    /** ... and as the host reads them through the controller's translation (set 1: break = make | 0x80). */
    private static final int[] CTRL_ALT_DEL_SET1 = {0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D};

    private final IntConsumer toController;
    private final BooleanSupplier translating;
    private int pendingCommand = NO_COMMAND;
    private boolean scanning = true;

    /**
     * @param toController puts a byte from the keyboard into the controller's output buffer
     * @param translating  whether the controller translates set 2 to set 1 (CTR bit 6)
     */
    Ps2Keyboard(IntConsumer toController, BooleanSupplier translating) {
        this.toController = toController;
        this.translating = translating;
    }

    /** A byte the host sent to the keyboard through the controller's data port. */
    void receive(int value) {
        int command = pendingCommand;
        pendingCommand = NO_COMMAND;
        if (command != NO_COMMAND) { // the parameter of ED, F0 or F3
            toController.accept(ACK);
            if (command == CMD_SCANCODE_SET && value == 0) toController.accept(SET_2); // 0 asks which set
            return;
        }
        switch (value) {
            case CMD_ECHO -> toController.accept(CMD_ECHO);
            case CMD_SET_LEDS, CMD_SCANCODE_SET, CMD_SET_REPEAT -> {
                pendingCommand = value;
                toController.accept(ACK);
            }
            case CMD_GET_ID -> {
                toController.accept(ACK);
                toController.accept(ID_FIRST);
                toController.accept(translating.getAsBoolean() ? ID_SECOND_TRANSLATED : ID_SECOND);
            }
            case CMD_ENABLE -> {
                scanning = true;
                toController.accept(ACK);
            }
            case CMD_RESET_DISABLE -> {
                scanning = false;
                toController.accept(ACK);
            }
            case CMD_RESET_DEFAULT -> {
                scanning = true;
                toController.accept(ACK);
            }
            case CMD_RESET_BAT -> {
                scanning = true;
                toController.accept(ACK);
                toController.accept(BAT_PASSED);
            }
            default -> toController.accept(ACK); // commands without a reply of their own
        }
    }

    @Override
    public void saveState(StateWriter out) {
        out.u32(pendingCommand).bool(scanning);
    }

    @Override
    public void restoreState(StateReader in) {
        pendingCommand = in.u32();
        switch (pendingCommand) {
            case NO_COMMAND, CMD_SET_LEDS, CMD_SCANCODE_SET, CMD_SET_REPEAT -> { }
            default -> throw new SnapshotFormatException(String.format(
                    "the PS/2 keyboard waits for the parameter of command %#x, which takes none", pendingCommand));
        }
        scanning = in.bool();
    }

    /** Types Ctrl-Alt-Del; a keyboard whose scanning the host disabled sends nothing. Returns whether it did. */
    boolean typeCtrlAltDel() {
        if (!scanning) return false;
        for (int b : translating.getAsBoolean() ? CTRL_ALT_DEL_SET1 : CTRL_ALT_DEL_SET2) toController.accept(b);
        return true;
    }
}
