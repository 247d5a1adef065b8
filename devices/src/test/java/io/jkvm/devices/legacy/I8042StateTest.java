package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import org.junit.jupiter.api.Test;

class I8042StateTest {
    private static final int STR_OBF = 0x01, CMD_WRITE_CTR = 0x60, CMD_READ_CTR = 0x20, KBD_GET_ID = 0xF2,
            KBD_SET_LEDS = 0xED, ACK = 0xFA;

    private final RecordingLine kbdIrq = new RecordingLine();
    private final I8042 kbc = new I8042(kbdIrq, new RecordingLine(), () -> { });

    /**
     * The guest has written the command byte (keyboard interrupt and translation on), asked the keyboard for
     * its ID (three bytes queued, the ACK read) and begun writing the command byte again: the controller waits
     * for the data byte.
     */
    private byte[] savedMidConversation() {
        kbc.commandPort().write(0, 1, CMD_WRITE_CTR);
        kbc.dataPort().write(0, 1, 0x45);
        kbc.dataPort().write(0, 1, KBD_GET_ID);
        assertEquals(ACK, kbc.dataPort().read(0, 1));
        kbc.commandPort().write(0, 1, CMD_WRITE_CTR);
        return SavedState.save(kbc);
    }

    @Test
    void restoredControllerContinuesTheConversation() {
        byte[] state = savedMidConversation();
        RecordingLine restoredIrq = new RecordingLine();
        I8042 restored = SavedState.restore(state, new I8042(restoredIrq, new RecordingLine(), () -> { }));
        assertTrue(restoredIrq.level(), "a byte in the output buffer: IRQ 1 asserted again");
        assertEquals(kbc.commandPort().read(0, 1), restored.commandPort().read(0, 1), "status");
        for (I8042 c : new I8042[] {kbc, restored}) {
            assertEquals(0xAB, c.dataPort().read(0, 1));
            assertEquals(0x41, c.dataPort().read(0, 1), "translated MF2 ID");
            assertEquals(0, c.commandPort().read(0, 1) & STR_OBF);
            c.dataPort().write(0, 1, 0x47); // the data byte of the pending command
            c.commandPort().write(0, 1, CMD_READ_CTR);
            assertEquals(0x47, c.dataPort().read(0, 1));
        }
        assertTrue(restored.pressCtrlAltDel(), "the keyboard scans");
    }

    @Test
    void keyboardWaitingForAParameterIsRestored() {
        kbc.dataPort().write(0, 1, KBD_SET_LEDS);
        assertEquals(ACK, kbc.dataPort().read(0, 1));
        I8042 restored = SavedState.restore(SavedState.save(kbc), new I8042(new RecordingLine(), new RecordingLine(), () -> { }));
        restored.dataPort().write(0, 1, 0x07); // the LEDs: acknowledged, not taken as a command
        assertEquals(ACK, restored.dataPort().read(0, 1));
        assertEquals(0, restored.commandPort().read(0, 1) & STR_OBF, "one ACK, nothing else");
    }

    @Test
    void corruptStateIsRefusedCleanly() throws Exception {
        byte[] state = savedMidConversation();
        SavedState.assertCorruptionRefused(state, () -> new I8042(new RecordingLine(), new RecordingLine(), () -> { }));
    }
}
