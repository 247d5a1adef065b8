package io.jkvm.cli;

import static io.jkvm.cli.EscapeDecoder.Action.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EscapeDecoderTest {
    private final EscapeDecoder d = new EscapeDecoder();

    @Test
    void ctrlAThenXQuits() {
        assertEquals(SWALLOW, d.feed(0x01));
        assertEquals(QUIT, d.feed('x'));
    }

    @Test
    void doubleCtrlASendsOneCtrlA() {
        assertEquals(SWALLOW, d.feed(0x01));
        assertEquals(FORWARD, d.feed(0x01));
        assertEquals(FORWARD, d.feed('a'));
    }

    @Test
    void ctrlAThenOtherSendsBoth() {
        assertEquals(SWALLOW, d.feed(0x01));
        assertEquals(FORWARD_ESCAPE_AND_BYTE, d.feed('c'));
        assertEquals(FORWARD, d.feed('x'));
    }
}
