package io.jkvm.boot.agent;

import java.nio.charset.StandardCharsets;

/**
 * What a command run in the guest by its agent left: the exit status (128 + N for a command killed by
 * signal N, as shells report it), and all it wrote to stdout and stderr.
 */
public record ExecResult(int exitCode, byte[] stdout, byte[] stderr) {
    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }
}
