/*
 * jkvm-agent: runs commands for the host over virtio-vsock (protocol: PROTOCOL.md beside this file).
 *
 * The agent listens on a vsock stream port (default 52) and forks one session process per connection, so
 * sessions run side by side. A session reads the request (argv, environment), starts the command with
 * pipes for stdin, stdout and stderr, then relays: stdin frames from the host into the command, its output
 * back as frames, and at the end its exit status. Static, libc only: it runs from jkvm's busybox initramfs.
 *
 * `jkvm-agent connect PORT` is the other direction: a connection from the guest to the host (CID 2) on
 * PORT, which jkvm's hybrid vsock forwards to the Unix socket `<uds>_PORT`; stdin goes to it, what comes
 * back goes to stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define DEFAULT_PORT 52
/* Frame types (PROTOCOL.md). Host to agent: */
#define F_ARG 'A'
#define F_ENV 'V'
#define F_RUN 'R'
#define F_STDIN 'I'
/* Agent to host: */
#define F_STDOUT 'O'
#define F_STDERR 'E'
#define F_EXIT 'X'
#define EXIT_EXITED 0
#define EXIT_SIGNALLED 1

#define MAX_FRAME (64 * 1024)       /* payload of any frame */
#define MAX_ITEMS 4096              /* argv words plus environment entries */
#define MAX_REQUEST (1024 * 1024)   /* bytes of argv and environment together */

static int read_full(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* u8 type, le32 length, payload */
static int send_frame(int sock, int type, const void *payload, uint32_t length) {
    unsigned char header[5] = {(unsigned char)type, length, length >> 8, length >> 16, length >> 24};
    if (write_full(sock, header, sizeof header) < 0) return -1;
    return write_full(sock, payload, length);
}

/* Reads one frame header; returns the type, or -1 at end of stream / on a frame longer than MAX_FRAME. */
static int read_frame_header(int sock, uint32_t *length) {
    unsigned char header[5];
    if (read_full(sock, header, sizeof header) < 0) return -1;
    *length = header[1] | header[2] << 8 | header[3] << 16 | (uint32_t)header[4] << 24;
    return *length > MAX_FRAME ? -1 : header[0];
}

/* The request: A and V frames up to R. Returns 0 with NULL-terminated argv and envp (envp NULL if no V). */
static int read_request(int sock, char ***argv_out, char ***envp_out) {
    static char *argv[MAX_ITEMS + 1], *envp[MAX_ITEMS + 1];
    int argc = 0, envc = 0;
    size_t total = 0;
    for (;;) {
        uint32_t length;
        int type = read_frame_header(sock, &length);
        if (type == F_RUN && length == 0) break;
        if ((type != F_ARG && type != F_ENV) || argc + envc == MAX_ITEMS || (total += length) > MAX_REQUEST) return -1;
        char *item = malloc(length + 1);
        if (item == NULL || read_full(sock, item, length) < 0) return -1;
        item[length] = '\0';
        if (type == F_ARG) argv[argc++] = item;
        else envp[envc++] = item;
    }
    if (argc == 0) return -1;
    argv[argc] = NULL;
    envp[envc] = NULL;
    *argv_out = argv;
    *envp_out = envc > 0 ? envp : NULL;
    return 0;
}

static void child(char **argv, char **envp, int in, int out, int err) {
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (int fd = 3; fd < 64; fd++) close(fd);
    signal(SIGPIPE, SIG_DFL); /* the agent ignores it; exec keeps ignored signals ignored */
    setsid();
    if (envp != NULL) execvpe(argv[0], argv, envp);
    else execvp(argv[0], argv);
    dprintf(2, "jkvm-agent: %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* One connection: the request, the command, the relay, the exit status. Returns the process exit code. */
static int session(int sock) {
    char **argv, **envp;
    if (read_request(sock, &argv, &envp) < 0) {
        const char *msg = "jkvm-agent: malformed request\n";
        unsigned char status[8] = {EXIT_EXITED, 0, 0, 0, 2, 0, 0, 0};
        send_frame(sock, F_STDERR, msg, strlen(msg));
        send_frame(sock, F_EXIT, status, sizeof status);
        return 1;
    }
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) child(argv, envp, in[0], out[1], err[1]);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);

    static char buf[MAX_FRAME], pending[MAX_FRAME];
    size_t pending_len = 0, pending_off = 0;
    int stdin_open = 1, stdin_eof = 0, out_open = 1, err_open = 1;
    while (out_open || err_open) {
        struct pollfd fds[4] = {
            {sock, (stdin_open && !stdin_eof && pending_len == 0) ? POLLIN : 0, 0},
            {stdin_open ? in[1] : -1, pending_len > 0 ? POLLOUT : 0, 0},
            {out_open ? out[0] : -1, POLLIN, 0},
            {err_open ? err[0] : -1, POLLIN, 0},
        };
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents) {
            uint32_t length;
            int type = read_frame_header(sock, &length);
            if (type != F_STDIN || read_full(sock, pending, length) < 0) {
                stdin_eof = 1; /* the host went away or misbehaved: no more input */
            } else if (length == 0) {
                stdin_eof = 1;
            } else {
                pending_len = length;
                pending_off = 0;
            }
        }
        if (fds[1].revents) {
            ssize_t w = write(in[1], pending + pending_off, pending_len - pending_off);
            if (w > 0) {
                pending_off += (size_t)w;
                if (pending_off == pending_len) pending_len = 0;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                pending_len = 0; /* the command closed its stdin (EPIPE): drop the rest */
                stdin_eof = 1;
            }
        }
        if (stdin_open && stdin_eof && pending_len == 0) {
            close(in[1]);
            stdin_open = 0;
        }
        for (int i = 2; i < 4; i++) {
            if (!fds[i].revents) continue;
            ssize_t r = read(fds[i].fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                close(fds[i].fd);
                if (i == 2) out_open = 0;
                else err_open = 0;
            } else if (send_frame(sock, i == 2 ? F_STDOUT : F_STDERR, buf, (uint32_t)r) < 0) {
                kill(-pid, SIGKILL); /* nobody to report to */
                waitpid(pid, NULL, 0);
                return 1;
            }
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    uint32_t kind = WIFSIGNALED(status) ? EXIT_SIGNALLED : EXIT_EXITED;
    uint32_t value = WIFSIGNALED(status) ? (uint32_t)WTERMSIG(status) : (uint32_t)WEXITSTATUS(status);
    unsigned char report[8] = {kind, kind >> 8, kind >> 16, kind >> 24, value, value >> 8, value >> 16, value >> 24};
    send_frame(sock, F_EXIT, report, sizeof report);
    return 0;
}

/*
 * `connect PORT`: copies stdin to the host and the host's bytes to stdout. At the end of stdin it shuts the
 * sending side (the host sees end of stream and may still answer); it ends when the host ends its side.
 * Writes block: a host that neither reads nor ends its side stalls it, as it would any simple relay.
 */
static int connect_to_host(unsigned port) {
    struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_HOST};
    int sock = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "jkvm-agent: connect to host port %u: %s\n", port, strerror(errno));
        return 1;
    }
    static char buf[MAX_FRAME];
    int stdin_open = 1;
    for (;;) {
        struct pollfd fds[2] = {{stdin_open ? 0 : -1, POLLIN, 0}, {sock, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (fds[0].revents) {
            ssize_t r = read(0, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                shutdown(sock, SHUT_WR);
                stdin_open = 0;
            } else if (write_full(sock, buf, (size_t)r) < 0) {
                perror("jkvm-agent: send to host");
                return 1;
            }
        }
        if (fds[1].revents) {
            ssize_t r = read(sock, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                perror("jkvm-agent: receive from host");
                return 1;
            }
            if (r == 0) return 0; /* the host ended its side */
            if (write_full(1, buf, (size_t)r) < 0) return 1;
        }
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "connect") == 0) return connect_to_host((unsigned)strtoul(argv[2], NULL, 10));
    unsigned port = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : DEFAULT_PORT;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* session processes are reaped by the kernel */
    struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
    int listener = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 64) < 0) {
        perror("jkvm-agent: vsock listen");
        return 1;
    }
    for (;;) {
        int sock = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (sock < 0) continue;
        pid_t pid = fork();
        if (pid == 0) {
            close(listener);
            signal(SIGCHLD, SIG_DFL); /* the session waits for its command */
            _exit(session(sock));
        }
        close(sock);
    }
}
