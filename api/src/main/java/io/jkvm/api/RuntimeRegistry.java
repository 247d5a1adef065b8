package io.jkvm.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The running jkvm VMMs of this user: a directory ({@code $XDG_RUNTIME_DIR/jkvm}, or {@code /run/jkvm}
 * without it) with one file per VM, {@code ID.json}, naming its id, pid, API socket and start time. A VMM
 * {@link #register}s when it starts (refused if the id is taken by a live VMM) and removes its file when
 * it ends; entries whose process is gone (or whose pid now belongs to a younger process) are stale and
 * are deleted, with their socket, whenever the registry is read.
 */
public final class RuntimeRegistry {
    /** Firecracker's instance id rule: 1 to 64 of A-Z, a-z, 0-9 and '-'. It is also a file name here. */
    private static final String ID_PATTERN = "[A-Za-z0-9-]{1,64}";
    private static final String SUFFIX = ".json";

    /** One registry file. */
    public record Entry(@JsonProperty("id") String id, @JsonProperty("pid") long pid,
                        @JsonProperty("api_socket") String apiSocket, @JsonProperty("started_ms") long startedMillis) {
        /** Whether the process that wrote the entry still runs (and is not a later one that got its pid). */
        boolean live() {
            Optional<ProcessHandle> p = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            Optional<Instant> start = p.flatMap(h -> h.info().startInstant());
            return p.isPresent() && start.map(s -> s.toEpochMilli() <= startedMillis + 1000).orElse(true);
        }
    }

    /** A VMM's own entry; closing it removes the file. */
    public final class Registration implements AutoCloseable {
        private final Path file;

        private Registration(Path file) {
            this.file = file;
        }

        @Override
        public void close() {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                System.getLogger(RuntimeRegistry.class.getName()).log(System.Logger.Level.WARNING, "cannot remove " + file, e);
            }
        }
    }

    private final Path directory;

    public RuntimeRegistry(Path directory) {
        this.directory = directory;
    }

    /** {@code $XDG_RUNTIME_DIR/jkvm}, or {@code /run/jkvm} where XDG_RUNTIME_DIR is not set. */
    public static RuntimeRegistry fromEnvironment() {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        return new RuntimeRegistry(xdg == null || xdg.isEmpty() ? Path.of("/run/jkvm") : Path.of(xdg, "jkvm"));
    }

    public Path directory() {
        return directory;
    }

    /** Where a VM's API socket goes when none is given: {@code ID.sock} in the registry directory. */
    public Path defaultSocket(String id) {
        return directory.resolve(id + ".sock");
    }

    /** A fresh id: {@code vm-} and 8 hex digits. */
    public static String newId() {
        return "vm-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    /** @throws IllegalArgumentException the id is not 1-64 letters, digits and '-' */
    public static String checkId(String id) {
        if (!id.matches(ID_PATTERN)) throw new IllegalArgumentException("--id must be 1-64 letters, digits or '-': '" + id + "'");
        return id;
    }

    /**
     * Registers this process as VM {@code id} serving its API on {@code socket}.
     *
     * @throws IllegalArgumentException the id is taken by a live VMM, or the directory cannot be written
     */
    public Registration register(String id, Path socket) {
        checkId(id);
        Path file = directory.resolve(id + SUFFIX);
        Entry entry = new Entry(id, ProcessHandle.current().pid(), socket.toAbsolutePath().toString(),
                ProcessHandle.current().info().startInstant().map(Instant::toEpochMilli).orElse(System.currentTimeMillis()));
        try {
            createDirectory();
            Path temp = Files.createTempFile(directory, "." + id, ".tmp");
            try {
                Files.write(temp, Json.write(entry));
                for (int attempt = 0; ; attempt++) {
                    try {
                        Files.createLink(file, temp); // atomic, and only if no entry is there
                        return new Registration(file);
                    } catch (FileAlreadyExistsException e) {
                        Optional<Entry> other = read(file);
                        if (attempt > 0 || other.map(Entry::live).orElse(false))
                            throw new IllegalArgumentException("--id " + id + " is in use by pid "
                                    + other.map(o -> Long.toString(o.pid())).orElse("?") + " (" + file + ")");
                        removeStale(file, other);
                    }
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot register the VM in " + directory + ": " + e.getMessage());
        }
    }

    /** The live VMs, by id; stale entries are removed on the way. */
    public List<Entry> list() {
        List<Entry> live = new ArrayList<>();
        if (!Files.isDirectory(directory)) return live;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                Optional<Entry> entry = read(file);
                if (entry.isPresent() && entry.get().live()) live.add(entry.get());
                else removeStale(file, entry);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        live.sort(Comparator.comparing(Entry::id));
        return live;
    }

    /** The live VM {@code id}. @throws IllegalArgumentException there is none */
    public Entry find(String id) {
        return list().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no running VM with id '" + id + "' in " + directory + " (jkvm list shows them)"));
    }

    private void createDirectory() throws IOException {
        if (Files.isDirectory(directory)) return;
        Files.createDirectories(directory.getParent());
        try {
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException raced) {
            // another VMM made it meanwhile
        }
    }

    /** The entry in {@code file}; empty if it vanished or is not an entry (a half-written or foreign file). */
    private static Optional<Entry> read(Path file) {
        try {
            return Optional.of(Json.read(Files.readAllBytes(file), Entry.class));
        } catch (NoSuchFileException | ApiFault e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a dead VMM's entry and the socket it left (only a socket, never a regular file). */
    private static void removeStale(Path file, Optional<Entry> entry) throws IOException {
        Files.deleteIfExists(file);
        if (entry.isEmpty()) return;
        Path socket = Path.of(entry.get().apiSocket());
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)
                && Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
            Files.deleteIfExists(socket);
    }
}
