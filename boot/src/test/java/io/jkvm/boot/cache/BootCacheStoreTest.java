package io.jkvm.boot.cache;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootCacheStoreTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

    @TempDir Path root;
    /** The store's clock, moved on by the tests: LRU order is by the times it gives. */
    private Instant now = T0;

    private BootCacheStore store(int capacity) {
        return new BootCacheStore(root, capacity, new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Instant instant() {
                return now;
            }
        });
    }

    private static BootCacheKey key(char c) {
        return new BootCacheKey(String.valueOf(c).repeat(64));
    }

    /** An entry being written, with both files written as a snapshot would. */
    private static BootCacheStore.Pending written(BootCacheStore s, BootCacheKey key, String state) throws IOException {
        BootCacheStore.Pending p = s.begin(key);
        Files.writeString(p.state(), state);
        Files.writeString(p.memory(), "memory");
        return p;
    }

    /** Writes an entry, then commits it at the current time. */
    private void put(BootCacheStore s, BootCacheKey key) throws IOException {
        written(s, key, "state of " + key.shortForm()).commit();
    }

    private List<String> names() throws IOException {
        try (Stream<Path> list = Files.list(root)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anEntryAppearsOnlyWhenCommittedAndWhole() throws IOException {
        BootCacheStore s = store(8);
        BootCacheStore.Pending p = written(s, key('a'), "state");
        assertTrue(s.lookup(key('a')).isEmpty(), "not before the commit");
        assertTrue(names().get(0).startsWith(BootCacheStore.TEMP_PREFIX), "written under a temporary name: " + names());
        p.commit();
        BootCacheStore.Entry e = s.lookup(key('a')).orElseThrow();
        assertEquals("state", Files.readString(e.state()));
        assertEquals("memory", Files.readString(e.memory()));
        assertEquals(List.of(key('a').hex()), names(), "no temporary directory left");
    }

    @Test
    void theLeastRecentlyUsedEntriesGoBeyondTheCapacity() throws IOException {
        BootCacheStore s = store(2);
        put(s, key('a'));
        now = now.plusSeconds(1);
        put(s, key('b'));
        now = now.plusSeconds(1);
        assertTrue(s.lookup(key('a')).isPresent(), "a used again: b is now the oldest");
        now = now.plusSeconds(1);
        put(s, key('c'));
        assertEquals(List.of(key('c'), key('a')), s.keys());
        assertTrue(s.lookup(key('b')).isEmpty());
    }

    @Test
    void anIncompleteEntryIsNoEntryAndIsRemoved() throws IOException {
        BootCacheStore s = store(8);
        Path half = Files.createDirectory(root.resolve(key('a').hex()));
        Files.writeString(half.resolve(BootCacheStore.STATE), "state");
        Files.writeString(root.resolve(key('b').hex()), "a file, not a directory");
        Files.createDirectories(root.resolve(key('c').hex()).resolve(BootCacheStore.MEMORY)); // a directory, not a file
        Files.writeString(root.resolve(key('c').hex()).resolve(BootCacheStore.STATE), "state");
        for (char c : new char[] {'a', 'b', 'c'}) assertTrue(s.lookup(key(c)).isEmpty(), String.valueOf(c));
        assertEquals(List.of(), names());
    }

    @Test
    void discardRemovesAnEntry() throws IOException {
        BootCacheStore s = store(8);
        put(s, key('a'));
        s.discard(key('a'));
        assertTrue(s.lookup(key('a')).isEmpty());
        s.discard(key('a')); // absent: nothing to do
    }

    @Test
    void aSecondWriterOfTheSameEntryLeavesTheFirstInPlace() throws IOException {
        BootCacheStore s = store(8);
        BootCacheStore.Pending late = written(s, key('a'), "late");
        put(s, key('a'));
        late.commit();
        assertEquals("state of " + key('a').shortForm(), Files.readString(s.lookup(key('a')).orElseThrow().state()));
        assertEquals(List.of(key('a').hex()), names());
    }

    @Test
    void aSnapshotThatWroteNothingIsNotCommitted() throws IOException {
        BootCacheStore s = store(8);
        BootCacheStore.Pending p = s.begin(key('a'));
        assertThrows(IOException.class, p::commit);
        p.abandon();
        assertEquals(List.of(), names());
    }

    @Test
    void temporaryDirectoriesOfDeadWritersGoWhenStale() throws IOException {
        BootCacheStore s = store(8);
        Path dead = Files.createDirectory(root.resolve(BootCacheStore.TEMP_PREFIX + "dead"));
        Files.writeString(dead.resolve(BootCacheStore.MEMORY), "half");
        Files.setLastModifiedTime(dead, FileTime.from(T0.minus(BootCacheStore.STALE_TEMP).minusSeconds(1)));
        Path writing = Files.createDirectory(root.resolve(BootCacheStore.TEMP_PREFIX + "writing"));
        Files.setLastModifiedTime(writing, FileTime.from(T0.minusSeconds(60)));
        s.evict();
        assertEquals(List.of(BootCacheStore.TEMP_PREFIX + "writing"), names());
    }

    @Test
    void theDefaultDirectoryFollowsXdg() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/home/u/.cache/jkvm/boot-cache"), BootCacheStore.defaultDirectory(Map.of(), home));
        assertEquals(Path.of("/home/u/.cache/jkvm/boot-cache"), BootCacheStore.defaultDirectory(Map.of("XDG_CACHE_HOME", ""), home));
        assertEquals(Path.of("/c/jkvm/boot-cache"), BootCacheStore.defaultDirectory(Map.of("XDG_CACHE_HOME", "/c"), home));
    }

    @Test
    void aStoreKeepsAtLeastOneEntry() {
        assertThrows(IllegalArgumentException.class, () -> store(0));
    }
}
