package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.bus.BusDevice;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Replays the probe of Linux 6.1 drivers/input/serio/i8042.c against the model. */
class I8042Test {
    // include/linux/i8042.h: status bits, CTR bits, commands (params << 12 | results << 8 | opcode).
    static final int STR_OBF = 0x01, STR_IBF = 0x02, STR_SYS = 0x04, STR_CMDDAT = 0x08, STR_KEYLOCK = 0x10,
            STR_AUXDATA = 0x20, STR_TIMEOUT = 0x40;
    static final int CTR_KBDINT = 0x01, CTR_AUXINT = 0x02, CTR_KBDDIS = 0x10, CTR_AUXDIS = 0x20, CTR_XLATE = 0x40;
    static final int CMD_CTL_RCTR = 0x0120, CMD_CTL_WCTR = 0x1060, CMD_CTL_TEST = 0x01aa, CMD_AUX_DISABLE = 0x00a7,
            CMD_AUX_ENABLE = 0x00a8, CMD_AUX_TEST = 0x01a9, CMD_AUX_SEND = 0x10d4, CMD_AUX_LOOP = 0x11d3,
            CMD_KBD_TEST = 0x01ab, CMD_KBD_DISABLE = 0x00ad, CMD_KBD_ENABLE = 0x00ae;
    static final int CTL_TIMEOUT = 10_000; // polls of 50 us each in the driver

    private final RecordingLine kbdIrq = new RecordingLine();
    private final RecordingLine auxIrq = new RecordingLine();
    private final AtomicInteger resets = new AtomicInteger();
    private final I8042 kbc = new I8042(kbdIrq, auxIrq, resets::incrementAndGet);
    private final BusDevice data = kbc.dataPort();
    private final BusDevice command = kbc.commandPort();

    private int status() {
        return (int) command.read(0, 1);
    }

    private int readData() {
        return (int) data.read(0, 1);
    }

    /** __i8042_command(): any wait that reaches I8042_CTL_TIMEOUT is a failure here. */
    private int[] i8042Command(int cmd, int... params) {
        waitWrite();
        command.write(0, 1, cmd & 0xff);
        for (int i = 0; i < (cmd >> 12 & 0xf); i++) {
            waitWrite();
            data.write(0, 1, params[i]);
        }
        int[] results = new int[cmd >> 8 & 0xf];
        for (int i = 0; i < results.length; i++) {
            int polls = 0;
            while ((status() & STR_OBF) == 0) assertTrue(++polls < CTL_TIMEOUT, "wait read timeout");
            if (cmd == CMD_AUX_LOOP) assertNotEquals(0, status() & STR_AUXDATA, "auxerr");
            results[i] = readData();
        }
        return results;
    }

    private void waitWrite() {
        assertEquals(0, status() & STR_IBF, "input buffer full");
    }

    /** i8042_flush(): returns the number of bytes thrown away. */
    private int flush() {
        int count = 0;
        while ((status() & STR_OBF) != 0) {
            assertTrue(++count <= 16, "flush would fail: no controller found");
            readData();
        }
        return count;
    }

    @Test
    void linuxProbeSucceedsWithoutTimeouts() {
        assertEquals(0, flush(), "i8042_controller_check");
        assertEquals(0x55, i8042Command(CMD_CTL_TEST)[0], "i8042_controller_selftest");

        int ctr0 = i8042Command(CMD_CTL_RCTR)[0];
        assertEquals(ctr0, i8042Command(CMD_CTL_RCTR)[0], "stable CTR read");
        assertNotEquals(0, status() & STR_KEYLOCK, "no 'Keylock active' warning");
        int ctr = (ctr0 | CTR_KBDDIS) & ~CTR_KBDINT;
        i8042Command(CMD_CTL_WCTR, ctr);
        flush();

        // i8042_check_aux
        flush();
        assertEquals(0x5a, i8042Command(CMD_AUX_LOOP, 0x5a)[0], "AUX loopback");
        i8042Command(CMD_AUX_DISABLE);
        assertNotEquals(0, i8042Command(CMD_CTL_RCTR)[0] & CTR_AUXDIS, "toggle aux off");
        i8042Command(CMD_AUX_ENABLE);
        assertEquals(0, i8042Command(CMD_CTL_RCTR)[0] & CTR_AUXDIS, "toggle aux on");
        ctr = (ctr & ~CTR_AUXDIS) | CTR_AUXINT;
        i8042Command(CMD_CTL_WCTR, ctr); // i8042_enable_aux_port
        int edges = auxIrq.risingEdges.get();
        command.write(0, 1, CMD_AUX_LOOP & 0xff); // __i8042_command(&param, I8042_CMD_AUX_LOOP & 0xf0ff)
        data.write(0, 1, 0xa5);
        assertEquals(edges + 1, auxIrq.risingEdges.get(), "AUX IRQ delivered");
        int str = status(); // i8042_aux_test_irq
        assertEquals(STR_OBF | STR_AUXDATA, str & (STR_OBF | STR_AUXDATA));
        assertEquals(0xa5, readData());
        assertFalse(auxIrq.level());
        ctr = (ctr | CTR_AUXDIS) & ~CTR_AUXINT;
        i8042Command(CMD_CTL_WCTR, ctr);

        // i8042_check_mux: a legacy controller echoes the third byte, so no multiplexer is found
        flush();
        assertEquals(0xf0, i8042Command(CMD_AUX_LOOP, 0xf0)[0]);
        assertEquals(0x56, i8042Command(CMD_AUX_LOOP, 0x56)[0]);
        assertEquals(0xa4, i8042Command(CMD_AUX_LOOP, 0xa4)[0], "param == val: not an active multiplexer");

        // i8042_enable_kbd_port
        ctr = (ctr & ~CTR_KBDDIS) | CTR_KBDINT;
        i8042Command(CMD_CTL_WCTR, ctr);
        assertEquals(ctr, i8042Command(CMD_CTL_RCTR)[0]);
        assertEquals(0, resets.get());
        assertFalse(kbdIrq.level());
    }

    @Test
    void interfaceTestsPass() {
        assertEquals(0x00, i8042Command(CMD_AUX_TEST)[0]);
        assertEquals(0x00, i8042Command(CMD_KBD_TEST)[0]);
    }

    @Test
    void keyboardDisableEnableToggleCtr() {
        i8042Command(CMD_KBD_DISABLE);
        assertNotEquals(0, i8042Command(CMD_CTL_RCTR)[0] & CTR_KBDDIS);
        i8042Command(CMD_KBD_ENABLE);
        assertEquals(0, i8042Command(CMD_CTL_RCTR)[0] & CTR_KBDDIS);
    }

    /** ps2_command() as atkbd uses it: the command byte, each parameter, each acknowledged, then the reply. */
    private int[] keyboardCommand(int command, int replyBytes, int... params) {
        data.write(0, 1, command);
        assertEquals(0xfa, readData(), "ACK of " + Integer.toHexString(command));
        for (int p : params) {
            data.write(0, 1, p);
            assertEquals(0xfa, readData(), "ACK of the parameter");
        }
        int[] reply = new int[replyBytes];
        for (int i = 0; i < replyBytes; i++) reply[i] = readData();
        assertEquals(0, status() & STR_OBF, "nothing more from the keyboard");
        return reply;
    }

    /** atkbd_probe, atkbd_select_set (translated: set 2 as is) and atkbd_activate of Linux 6.1. */
    @Test
    void atkbdFindsAndActivatesTheKeyboardThroughTranslation() {
        i8042Command(CMD_CTL_WCTR, CTR_XLATE | CTR_KBDINT);
        data.write(0, 1, 0xf2); // ATKBD_CMD_GETID
        assertTrue(kbdIrq.level(), "IRQ 1 for the reply");
        assertEquals(STR_OBF, status() & (STR_OBF | STR_TIMEOUT | STR_AUXDATA));
        assertArrayEquals(new int[] {0xfa, 0xab, 0x41}, new int[] {readData(), readData(), readData()},
                "MF2 ID as the controller's translation delivers it");
        keyboardCommand(0xf5, 0); // atkbd_deactivate
        keyboardCommand(0xed, 0, 0x00); // ATKBD_CMD_SETLEDS
        keyboardCommand(0xf3, 0, 0x00); // ATKBD_CMD_SETREP
        keyboardCommand(0xf4, 0); // ATKBD_CMD_ENABLE
        assertEquals(0xee, sendToKeyboard(0xee), "echo");
        assertArrayEquals(new int[] {0xaa}, keyboardCommand(0xff, 1), "reset: self-test passed");
        assertArrayEquals(new int[] {0x02}, keyboardCommand(0xf0, 1, 0x00), "scan-code set 2");
    }

    private int sendToKeyboard(int b) {
        data.write(0, 1, b);
        return readData();
    }

    @Test
    void untranslatedIdIsTheKeyboardsOwn() {
        i8042Command(CMD_CTL_WCTR, CTR_KBDINT);
        assertArrayEquals(new int[] {0xab, 0x83}, keyboardCommand(0xf2, 2));
    }

    @Test
    void ctrlAltDelArrivesAsScanCodesWithIrq1() {
        i8042Command(CMD_CTL_WCTR, CTR_XLATE | CTR_KBDINT);
        int edges = kbdIrq.risingEdges.get();
        assertTrue(kbc.pressCtrlAltDel());
        assertEquals(edges + 1, kbdIrq.risingEdges.get());
        int[] set1 = new int[8];
        for (int i = 0; i < set1.length; i++) set1[i] = readData();
        // Ctrl, Alt, Del (E0 53) made, then broken (| 0x80) in reverse order: what atkbd turns into
        // KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE
        assertArrayEquals(new int[] {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d}, set1);
        assertEquals(0, status() & STR_OBF);

        i8042Command(CMD_CTL_WCTR, CTR_KBDINT); // translation off: set 2, 0xF0 before a break
        assertTrue(kbc.pressCtrlAltDel());
        int[] set2 = new int[11];
        for (int i = 0; i < set2.length; i++) set2[i] = readData();
        assertArrayEquals(new int[] {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14}, set2);
    }

    @Test
    void aKeyboardTheGuestDisabledTypesNothing() {
        keyboardCommand(0xf5, 0); // ATKBD_CMD_RESET_DIS
        assertFalse(kbc.pressCtrlAltDel());
        assertEquals(0, status() & STR_OBF);
        keyboardCommand(0xf4, 0);
        assertTrue(kbc.pressCtrlAltDel());
    }

    @Test
    void absentMouseAnswersWithTimeoutAndNakOnAux() {
        i8042Command(CMD_CTL_WCTR, CTR_KBDINT | CTR_AUXINT);
        i8042Command(CMD_AUX_SEND, 0xf2); // psmouse: PSMOUSE_CMD_GETID through i8042_aux_write
        assertTrue(auxIrq.level(), "IRQ 12 for the reply");
        assertFalse(kbdIrq.level());
        assertEquals(STR_OBF | STR_AUXDATA | STR_TIMEOUT, status() & (STR_OBF | STR_AUXDATA | STR_TIMEOUT));
        assertEquals(0xfe, readData());
    }

    @Test
    void eachQueuedByteIsANewEdge() {
        i8042Command(CMD_CTL_WCTR, CTR_KBDINT);
        command.write(0, 1, 0x20);
        command.write(0, 1, 0xaa);
        assertEquals(1, kbdIrq.risingEdges.get());
        assertEquals(CTR_KBDINT, readData());
        assertEquals(2, kbdIrq.risingEdges.get(), "second byte raised IRQ 1 again");
        assertEquals(0x55, readData());
        assertFalse(kbdIrq.level());
    }

    @Test
    void ctrIrqBitsGateTheLines() {
        i8042Command(CMD_CTL_WCTR, 0);
        command.write(0, 1, 0x20);
        assertFalse(kbdIrq.level());
        assertEquals(0, readData());
    }

    @Test
    void statusTracksLastPortWrittenAndSystemFlag() {
        command.write(0, 1, 0x60);
        assertNotEquals(0, status() & STR_CMDDAT);
        data.write(0, 1, 0x00);
        assertEquals(0, status() & (STR_CMDDAT | STR_SYS));
        i8042Command(CMD_CTL_TEST);
        assertNotEquals(0, status() & STR_SYS, "a passed self-test sets the system flag");
    }

    @Test
    void pulseResetLineCallsReset() {
        command.write(0, 1, 0xff); // pulses no line
        assertEquals(0, resets.get());
        command.write(0, 1, 0xfe);
        assertEquals(1, resets.get());
    }

    @Test
    void outputPortResetBitLowResets() {
        command.write(0, 1, 0xd0);
        assertEquals(0x03, readData(), "reset line high, A20 on");
        command.write(0, 1, 0xd1);
        data.write(0, 1, 0xdf);
        assertEquals(0, resets.get());
        command.write(0, 1, 0xd1);
        data.write(0, 1, 0xde);
        assertEquals(1, resets.get());
    }

    @Test
    void flushTerminatesEvenAfterManyQueuedReplies() {
        for (int i = 0; i < 40; i++) command.write(0, 1, 0x20);
        assertEquals(16, flush());
    }
}
