package io.jkvm.kvm.sys;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;

/**
 * The libc calls jkvm needs, bound through jnr-ffi. Pointers are passed as plain {@code long} addresses
 * so that callers never allocate a jnr object per call (the vCPU exit path calls {@link #ioctl} in a loop).
 * Every call saves errno; read it with {@link Native#errno()}.
 */
public interface LibC {
    LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

    @SaveError int open(String path, int flags, int mode);
    @SaveError int close(int fd);
    /** ioctl(2): the third argument is an integer or the address of a struct. */
    @SaveError int ioctl(int fd, long request, long arg);
    /**
     * mmap(2). Declared with a {@link Pointer} hint: jnr-ffi 2.2.17's all-primitive fast path passes
     * six-argument calls wrongly (mmap then fails with EINVAL); a Pointer parameter selects the
     * ordinary path. Not on any hot path.
     */
    @SaveError Pointer mmap(Pointer addr, @size_t long length, int prot, int flags, int fd, @off_t long offset);
    @SaveError int munmap(long addr, long length);
    @SaveError int madvise(long addr, long length, int advice);
    @SaveError int eventfd(int initval, int flags);
    @SaveError long read(int fd, long buf, long count);
    @SaveError long write(int fd, long buf, long count);
    @SaveError long pwrite(int fd, long buf, long count, long offset);
    @SaveError long preadv(int fd, long iov, int iovcnt, long offset);
    @SaveError long pwritev(int fd, long iov, int iovcnt, long offset);
    @SaveError long readv(int fd, long iov, int iovcnt);
    @SaveError long writev(int fd, long iov, int iovcnt);
    /** poll(2) over an array of {@code struct pollfd {int fd; short events; short revents;}}. */
    @SaveError int poll(long fds, long nfds, int timeout);
    @SaveError int fsync(int fd);
    @SaveError int fdatasync(int fd);
    /** fstat(2) (a glibc symbol since 2.33); {@code statbuf} is the address of a {@link Native#STAT_SIZE}-byte struct stat. */
    @SaveError int fstat(int fd, long statbuf);
    @SaveError int fallocate(int fd, int mode, long offset, long len);
    @SaveError int flock(int fd, int operation);
    String strerror(int errnum);

    // Thread signals, for kicking a vCPU thread out of KVM_RUN (see VcpuKick). sigset_t here is glibc's
    // 128-byte set; pthread_* return an error number instead of setting errno.
    long pthread_self();
    int pthread_kill(long thread, int sig);
    int pthread_sigmask(int how, long set, long oldset);
    @SaveError int sigtimedwait(long set, long info, long timeout);
    /** SIGRTMIN as glibc computes it (it reserves the lowest real-time signals for itself). */
    int __libc_current_sigrtmin();
}
