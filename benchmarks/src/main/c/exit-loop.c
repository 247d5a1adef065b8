/*
 * The C baseline for ExitBenchmark: runs one of jkvm's benchmark guests (a flat 32-bit binary that loops
 * on one port write or one MMIO write, guests/src/main/asm/bench-*.S) through raw KVM ioctls, in the same
 * CPU state the Java side gives it (32-bit protected mode, flat segments, paging off), and prints the
 * mean nanoseconds per exit round trip (KVM_RUN, decode the exit, KVM_RUN again) on stdout.
 *
 * Usage: exit-loop GUEST.bin pio|mmio EXITS
 * Facts from Documentation/virt/kvm/api.rst: §4.* for the ioctls, §5 for struct kvm_run.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x100000UL       /* guest RAM at guest-physical 0, as bench-*.expect declare */
#define LOAD_ADDRESS 0x1000UL     /* load= and entry= of bench-*.expect */
#define TSS_ADDRESS 0xfffbd000UL  /* three pages outside RAM for VT-x (api.rst 4.41 KVM_SET_TSS_ADDR) */
#define BENCH_PORT 0x80           /* loop.address of bench-pio.expect, 1-byte writes */
#define BENCH_MMIO 0xd0000000ULL  /* loop.address of bench-mmio.expect, 4-byte writes */
#define WARMUP_EXITS 1000

static void die(const char *what) {
    fprintf(stderr, "exit-loop: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int xioctl(int fd, unsigned long request, unsigned long arg, const char *name) {
    int r = ioctl(fd, request, arg);
    if (r < 0) die(name);
    return r;
}

/* A flat 4 GiB segment as a GDT descriptor at `selector` would load it (Intel SDM Vol. 3A §3.4.5). */
static struct kvm_segment flat(unsigned selector, unsigned type, int code_or_data) {
    struct kvm_segment s = {
        .base = 0, .limit = 0xffffffff, .selector = selector, .type = type, .present = 1, .dpl = 0,
        .db = 1, .s = code_or_data, .l = 0, .g = 1,
    };
    return s;
}

static void load_guest(const char *path, uint8_t *mem) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    size_t n = fread(mem + LOAD_ADDRESS, 1, MEM_SIZE - LOAD_ADDRESS, f);
    if (ferror(f) || n == 0) die(path);
    fclose(f);
}

/* Fails unless the exit is the one the guest declares; returns the written value. */
static uint64_t check_exit(const struct kvm_run *run, int pio) {
    if (pio) {
        if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
            run->io.port != BENCH_PORT || run->io.size != 1 || run->io.count != 1) {
            fprintf(stderr, "exit-loop: unexpected exit %u (port %#x)\n", run->exit_reason, run->io.port);
            exit(1);
        }
        return *((const uint8_t *)run + run->io.data_offset);
    }
    if (run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write || run->mmio.phys_addr != BENCH_MMIO ||
        run->mmio.len != 4) {
        fprintf(stderr, "exit-loop: unexpected exit %u (mmio %#llx)\n", run->exit_reason,
                (unsigned long long)run->mmio.phys_addr);
        exit(1);
    }
    uint32_t v;
    memcpy(&v, run->mmio.data, sizeof v);
    return v;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[2], "pio") != 0 && strcmp(argv[2], "mmio") != 0) || atol(argv[3]) <= 0) {
        fprintf(stderr, "usage: exit-loop GUEST.bin pio|mmio EXITS\n");
        return 2;
    }
    int pio = strcmp(argv[2], "pio") == 0;
    long exits = atol(argv[3]);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("cannot open /dev/kvm");
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) die("KVM_GET_API_VERSION");
    int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
    xioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDRESS, "KVM_SET_TSS_ADDR");

    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) die("mmap guest memory");
    load_guest(argv[1], mem);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .flags = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem,
    };
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&region, "KVM_SET_USER_MEMORY_REGION");

    int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");

    /* 32-bit protected mode: the selectors and types of jkvm's boot GDT (Gdt.java), CR0.PE, no paging. */
    struct kvm_sregs sregs;
    xioctl(vcpu, KVM_GET_SREGS, (unsigned long)&sregs, "KVM_GET_SREGS");
    sregs.cs = flat(0x10, 0xb, 1);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat(0x18, 0x3, 1);
    struct kvm_segment tss = { .base = 0, .limit = 0x67, .selector = 0x20, .type = 0xb, .present = 1 };
    sregs.tr = tss;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = (sregs.cr0 & ~((1UL << 30) | (1UL << 29) | (1UL << 31))) | 1; /* CD, NW, PG off; PE on */
    xioctl(vcpu, KVM_SET_SREGS, (unsigned long)&sregs, "KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = LOAD_ADDRESS, .rflags = 0x2 };
    xioctl(vcpu, KVM_SET_REGS, (unsigned long)&regs, "KVM_SET_REGS");

    uint64_t sum = 0;
    double start = 0;
    for (long i = 0; i < WARMUP_EXITS + exits; i++) {
        if (i == WARMUP_EXITS) start = now_ns();
        xioctl(vcpu, KVM_RUN, 0, "KVM_RUN");
        sum += check_exit(run, pio);
    }
    double elapsed = now_ns() - start;
    if (sum == 0) fprintf(stderr, "exit-loop: the guest wrote only zeros\n");
    printf("%.1f\n", elapsed / exits);
    return 0;
}
