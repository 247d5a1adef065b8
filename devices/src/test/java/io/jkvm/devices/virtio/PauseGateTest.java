package io.jkvm.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PauseGateTest {
    private final PauseGate gate = new PauseGate();

    @Test
    void pauseWaitsForTheServiceInFlight() throws Exception {
        assertTrue(gate.enter());
        CompletableFuture<Void> pausing = CompletableFuture.runAsync(gate::pause);
        Thread.sleep(100);
        assertFalse(pausing.isDone(), "pause returned while a request was being worked on");
        gate.exit();
        pausing.get(1, TimeUnit.SECONDS);
    }

    @Test
    void aServiceWaitsWhilePausedAndRunsAfterTheResume() throws Exception {
        gate.pause();
        gate.pause(); // twice is once
        CompletableFuture<Boolean> entering = CompletableFuture.supplyAsync(gate::enter);
        assertThrowsTimeout(entering);
        gate.resume();
        assertTrue(entering.get(1, TimeUnit.SECONDS));
        gate.exit();
        gate.resume(); // resuming an open gate changes nothing
        assertTrue(gate.enter());
        gate.exit();
    }

    @Test
    void closeReleasesAWaitingServiceWithoutRunningIt() throws Exception {
        gate.pause();
        CompletableFuture<Boolean> entering = CompletableFuture.supplyAsync(gate::enter);
        assertThrowsTimeout(entering);
        gate.close();
        assertEquals(false, entering.get(1, TimeUnit.SECONDS));
        assertFalse(gate.enter());
    }

    private static void assertThrowsTimeout(CompletableFuture<?> f) throws Exception {
        try {
            f.get(100, TimeUnit.MILLISECONDS);
        } catch (TimeoutException expected) {
            return;
        }
        throw new AssertionError("the service ran while paused");
    }
}
