package io.jkvm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeRegistryTest {
    @TempDir Path dir;

    private RuntimeRegistry registry() {
        return new RuntimeRegistry(dir.resolve("jkvm"));
    }

    @Test
    void aRegistrationIsListedUntilClosed() {
        RuntimeRegistry r = registry();
        Path socket = r.defaultSocket("one");
        try (RuntimeRegistry.Registration reg = r.register("one", socket)) {
            List<RuntimeRegistry.Entry> live = r.list();
            assertEquals(1, live.size());
            assertEquals("one", live.get(0).id());
            assertEquals(ProcessHandle.current().pid(), live.get(0).pid());
            assertEquals(socket.toAbsolutePath().toString(), live.get(0).apiSocket());
            assertEquals("one", r.find("one").id());
        }
        assertTrue(r.list().isEmpty());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> r.find("one"));
        assertTrue(none.getMessage().contains("no running VM with id 'one'"), none.getMessage());
    }

    @Test
    void anIdInUseIsRefused() {
        RuntimeRegistry r = registry();
        try (RuntimeRegistry.Registration reg = r.register("taken", r.defaultSocket("taken"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.register("taken", r.defaultSocket("x")));
            assertTrue(e.getMessage().contains("--id taken is in use by pid " + ProcessHandle.current().pid()), e.getMessage());
        }
    }

    @Test
    void staleEntriesAndTheirSocketsAreRemovedAndTheirIdsFree() throws Exception {
        RuntimeRegistry r = registry();
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Path socket = dir.resolve("jkvm/gone.sock");
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(socket)); // a socket file left behind by a dead VMM
        }
        Files.write(dir.resolve("jkvm/gone.json"), Json.write(new RuntimeRegistry.Entry("gone", dead.pid(), socket.toString(), 0)));
        Files.writeString(dir.resolve("jkvm/junk.json"), "{ half an entry");
        assertTrue(r.list().isEmpty());
        assertFalse(Files.exists(dir.resolve("jkvm/gone.json")));
        assertFalse(Files.exists(socket));
        assertFalse(Files.exists(dir.resolve("jkvm/junk.json")));

        Files.write(dir.resolve("jkvm/gone.json"), Json.write(new RuntimeRegistry.Entry("gone", dead.pid(), socket.toString(), 0)));
        try (RuntimeRegistry.Registration reg = r.register("gone", socket)) {
            assertEquals(ProcessHandle.current().pid(), r.find("gone").pid(), "a dead VMM's id is free again");
        }
    }

    @Test
    void idsAreCheckedAndGeneratedOnesAreValid() {
        for (String bad : List.of("", "has space", "../up", "a/b", "x".repeat(65), "dot.ted"))
            assertThrows(IllegalArgumentException.class, () -> RuntimeRegistry.checkId(bad), bad);
        assertEquals("vm-1", RuntimeRegistry.checkId("vm-1"));
        String id = RuntimeRegistry.newId();
        assertEquals(id, RuntimeRegistry.checkId(id));
        assertTrue(id.matches("vm-[0-9a-f]{8}"), id);
    }
}
