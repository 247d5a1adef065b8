package io.jkvm.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.EnumSet;
import java.util.function.IntConsumer;
import org.jline.terminal.Attributes;
import org.jline.terminal.Attributes.ControlChar;
import org.jline.terminal.Attributes.InputFlag;
import org.jline.terminal.Attributes.LocalFlag;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The host side of the guest's serial console. On a TTY, stdin goes raw for the session (no echo, no
 * line editing, Ctrl-C goes to the guest, not to the JVM) and is restored on close and on JVM exit;
 * Ctrl-A x quits ({@link EscapeDecoder}). With a non-TTY stdin (CI, pipes) bytes flow through as they come.
 */
final class HostConsole implements AutoCloseable {
    private final Terminal terminal;
    private final Attributes saved;
    private final Thread restoreHook;
    private final OutputStream out = new FileOutputStream(FileDescriptor.out);

    private HostConsole(Terminal terminal, Attributes saved) {
        this.terminal = terminal;
        this.saved = saved;
        this.restoreHook = new Thread(this::restore, "jkvm-console-restore");
        if (terminal != null) Runtime.getRuntime().addShutdownHook(restoreHook);
    }

    /** Opens the console; stdin goes raw only when both stdin and stdout are a terminal. */
    static HostConsole open() {
        if (System.console() == null) return new HostConsole(null, null);
        try {
            Terminal t = TerminalBuilder.builder().system(true).signalHandler(Terminal.SignalHandler.SIG_IGN).build();
            Attributes saved = t.getAttributes();
            Attributes raw = new Attributes(saved);
            // cfmakeraw(3) minus OPOST: the guest's own "\r\n" is printed unchanged either way.
            raw.setLocalFlags(EnumSet.of(LocalFlag.ICANON, LocalFlag.ECHO, LocalFlag.IEXTEN, LocalFlag.ISIG), false);
            raw.setInputFlags(EnumSet.of(InputFlag.IXON, InputFlag.ICRNL, InputFlag.INLCR, InputFlag.IGNCR,
                    InputFlag.ISTRIP, InputFlag.BRKINT, InputFlag.PARMRK), false);
            raw.setControlChar(ControlChar.VMIN, 1);
            raw.setControlChar(ControlChar.VTIME, 0);
            t.setAttributes(raw);
            return new HostConsole(t, saved);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot put the terminal in raw mode", e);
        }
    }

    boolean isTerminal() {
        return terminal != null;
    }

    /** Writes one byte the guest transmitted. */
    void write(int b) {
        try {
            out.write(b);
        } catch (IOException e) {
            // stdout closed (e.g. a pipe reader went away): the guest keeps running.
        }
    }

    /**
     * Starts the daemon thread that forwards stdin to {@code toGuest}; on a terminal Ctrl-A x calls
     * {@code onQuit}. At end of input nothing more is forwarded and the guest runs on.
     */
    void startInput(IntConsumer toGuest, Runnable onQuit) {
        Thread t = new Thread(() -> pump(new FileInputStream(FileDescriptor.in), toGuest, onQuit), "jkvm-console-in");
        t.setDaemon(true);
        t.start();
    }

    private void pump(InputStream in, IntConsumer toGuest, Runnable onQuit) {
        EscapeDecoder escape = new EscapeDecoder();
        byte[] buf = new byte[256];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    int b = buf[i] & 0xff;
                    if (!isTerminal()) {
                        toGuest.accept(b);
                        continue;
                    }
                    switch (escape.feed(b)) {
                        case FORWARD -> toGuest.accept(b);
                        case FORWARD_ESCAPE_AND_BYTE -> {
                            toGuest.accept(EscapeDecoder.CTRL_A);
                            toGuest.accept(b);
                        }
                        case SWALLOW -> { }
                        case QUIT -> {
                            onQuit.run();
                            return;
                        }
                    }
                }
            }
        } catch (IOException e) {
            // stdin went away: stop forwarding, the guest runs on.
        }
    }

    private synchronized void restore() {
        if (terminal == null) return;
        try {
            terminal.setAttributes(saved);
            terminal.flush();
        } catch (RuntimeException e) {
            // best effort during shutdown
        }
    }

    @Override
    public void close() {
        restore();
        if (terminal != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(restoreHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            try {
                terminal.close();
            } catch (IOException ignored) {
                // nothing left to restore
            }
        }
    }
}
