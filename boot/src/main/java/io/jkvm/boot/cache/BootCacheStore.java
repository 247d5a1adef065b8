package io.jkvm.boot.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The boot cache's directory: one subdirectory per {@link BootCacheKey}, named by its hex form, holding a
 * snapshot's {@value #STATE} and {@value #MEMORY} files.
 *
 * <ul>
 *   <li>An entry appears whole or not at all: it is written into a temporary directory ({@value #TEMP_PREFIX}...),
 *       its files flushed to the disk, then renamed to its name (rename(2) is atomic). A writer killed half-way
 *       leaves only a temporary directory, removed once it is {@link #STALE_TEMP} old.</li>
 *   <li>Least recently used entries go beyond {@code capacity}: a lookup that finds an entry sets its
 *       directory's modification time to now, and the oldest ones are removed after each new entry.</li>
 *   <li>An entry missing a file is no entry (it is removed); one whose files do not restore is removed by
 *       the caller ({@link #discard}).</li>
 * </ul>
 * Several jkvm processes may share the directory: the worst a race does is write an entry twice.
 */
public final class BootCacheStore {
    /** How many entries a boot cache keeps by default (each is a guest's RAM, so a few hundred MiB). */
    public static final int DEFAULT_CAPACITY = 8;
    static final String STATE = "state";
    static final String MEMORY = "memory";
    static final String TEMP_PREFIX = "tmp-";
    /** A temporary directory this old belongs to a writer that died (writing an entry takes seconds). */
    static final Duration STALE_TEMP = Duration.ofHours(1);

    private final Path root;
    private final int capacity;
    private final Clock clock;

    /** One complete entry: the files to restore from. */
    public record Entry(BootCacheKey key, Path state, Path memory) {}

    BootCacheStore(Path root, int capacity, Clock clock) {
        if (capacity < 1) throw new IllegalArgumentException("a boot cache needs room for at least one entry");
        this.root = root;
        this.capacity = capacity;
        this.clock = clock;
    }

    /**
     * The boot cache in {@code root} (created if absent) keeping {@code capacity} entries.
     *
     * @throws IOException the directory cannot be created
     */
    public static BootCacheStore open(Path root, int capacity) throws IOException {
        Files.createDirectories(root);
        return new BootCacheStore(root, capacity, Clock.systemUTC());
    }

    /** {@code $XDG_CACHE_HOME/jkvm/boot-cache}, or {@code ~/.cache/jkvm/boot-cache} (XDG Base Directory spec). */
    public static Path defaultDirectory(Map<String, String> env, Path home) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg == null || xdg.isEmpty() ? home.resolve(".cache") : Path.of(xdg);
        return base.resolve("jkvm").resolve("boot-cache");
    }

    public Path root() {
        return root;
    }

    /** The complete entry for {@code key}, now the most recently used, or empty (an incomplete one is removed). */
    public Optional<Entry> lookup(BootCacheKey key) throws IOException {
        Path dir = root.resolve(key.hex());
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        Entry entry = new Entry(key, dir.resolve(STATE), dir.resolve(MEMORY));
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !isFile(entry.state()) || !isFile(entry.memory())) {
            deleteTree(dir);
            return Optional.empty();
        }
        Files.setLastModifiedTime(dir, FileTime.from(clock.instant()));
        return Optional.of(entry);
    }

    /** Removes the entry for {@code key}, if any. */
    public void discard(BootCacheKey key) throws IOException {
        deleteTree(root.resolve(key.hex()));
    }

    /** Starts writing the entry for {@code key}: the snapshot goes to the returned files, then {@link Pending#commit}. */
    public Pending begin(BootCacheKey key) throws IOException {
        return new Pending(key, Files.createTempDirectory(root, TEMP_PREFIX));
    }

    /** An entry being written: in a temporary directory until {@link #commit}, gone after {@link #abandon}. */
    public final class Pending {
        private final BootCacheKey key;
        private final Path dir;

        private Pending(BootCacheKey key, Path dir) {
            this.key = key;
            this.dir = dir;
        }

        public Path state() {
            return dir.resolve(STATE);
        }

        public Path memory() {
            return dir.resolve(MEMORY);
        }

        /**
         * Flushes the files, publishes the entry under its name (unless another writer did so first), and
         * removes the least recently used entries beyond the capacity.
         */
        public void commit() throws IOException {
            if (!isFile(state()) || !isFile(memory())) throw new IOException("the snapshot left no " + STATE + " and " + MEMORY + " files in " + dir);
            sync(state());
            sync(memory());
            Path target = root.resolve(key.hex());
            try {
                Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
                Files.setLastModifiedTime(target, FileTime.from(clock.instant()));
            } catch (IOException e) {
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) throw e;
                abandon(); // another jkvm wrote the same entry meanwhile (rename(2): ENOTEMPTY)
            }
            sync(root);
            evict();
        }

        /** Removes what was written. */
        public void abandon() throws IOException {
            deleteTree(dir);
        }
    }

    /** The keys of the complete-looking entries, most recently used first. */
    public List<BootCacheKey> keys() throws IOException {
        return entriesByAge().stream().map(p -> new BootCacheKey(p.getFileName().toString())).toList();
    }

    /** Removes entries beyond the capacity, oldest use first, and temporary directories of dead writers. */
    void evict() throws IOException {
        List<Path> entries = entriesByAge();
        for (Path old : entries.subList(Math.min(capacity, entries.size()), entries.size())) deleteTree(old);
        FileTime stale = FileTime.from(clock.instant().minus(STALE_TEMP));
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(root, TEMP_PREFIX + "*")) {
            for (Path temp : temps) if (modified(temp).compareTo(stale) < 0) deleteTree(temp);
        }
    }

    private List<Path> entriesByAge() throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> all = Files.newDirectoryStream(root)) {
            for (Path p : all)
                if (BootCacheKey.isKey(p.getFileName().toString()) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) entries.add(p);
        }
        Map<Path, FileTime> times = new HashMap<>();
        for (Path p : entries) times.put(p, modified(p));
        entries.sort(Comparator.comparing((Path p) -> times.get(p)).reversed().thenComparing(Path::toString));
        return entries;
    }

    /** A file's modification time; a file removed meanwhile (by another jkvm) counts as oldest. */
    private static FileTime modified(Path p) throws IOException {
        try {
            return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static boolean isFile(Path p) {
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
    }

    /** fsync(2) on a file or directory: its data, or the names in it, survive a crash. */
    private static void sync(Path p) throws IOException {
        try (FileChannel channel = FileChannel.open(p, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Removes a file or a directory tree, without following symbolic links; absent is fine. */
    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> tree = Files.walk(p)) {
            for (Path q : tree.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (NoSuchFileException e) {
            // removed meanwhile by another jkvm
        }
    }
}
