package io.jkvm.devices.legacy;

import static org.junit.jupiter.api.Assertions.*;

import io.jkvm.devices.SavedState;
import org.junit.jupiter.api.Test;

class PostCodePortStateTest {
    @Test
    void theLatchedCodeIsRestored() throws Exception {
        PostCodePort port = new PostCodePort();
        port.write(0, 1, 0x42);
        byte[] state = SavedState.save(port);
        PostCodePort restored = SavedState.restore(state, new PostCodePort());
        assertEquals(0x42, restored.lastCode());
        assertEquals(0x42, restored.read(0, 1));
        SavedState.assertCorruptionRefused(state, PostCodePort::new);
    }
}
