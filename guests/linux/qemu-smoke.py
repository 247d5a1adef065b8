#!/usr/bin/env python3
"""Smoke-test a guest kernel + initramfs under QEMU (TCG works; no /dev/kvm needed).

usage: qemu-smoke.py KERNEL INITRAMFS [QEMU-ARGS...]    (default machine: -M pc)

1. command mode: boots with "-- JKVM-COMMAND echo hello; nproc; uname -r" (the marker jkvm writes
   itself before init's command) and expects JKVM-INIT-OK, hello,
   JKVM-EXIT=0 and QEMU ending by itself (poweroff -f);
2. interactive mode: boots without a command, waits for JKVM-INIT-OK, types `echo $((6*7))`
   (expects 42), runs `sleep 30` and interrupts it with Ctrl-C (expects status 130), then
   `reboot -f` (with -no-reboot QEMU exits: reboot=k works).
Writes smoke-command.log and smoke-interactive.log in the current directory; exit status 0 = pass.
"""
import os, select, subprocess, sys, time

kernel, initrd, extra = sys.argv[1], sys.argv[2], sys.argv[3:] or ["-M", "pc"]
BASE = "console=ttyS0 quiet panic=-1 reboot=k"


class Guest:
    def __init__(self, append):
        self.t0 = time.time()
        self.buf = b""
        self.p = subprocess.Popen(
            ["qemu-system-x86_64", "-m", "256", "-nographic", "-no-reboot", "-kernel", kernel,
             "-initrd", initrd, "-append", append] + extra,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def expect(self, token, timeout):
        end = time.time() + timeout
        while token.encode() not in self.buf:
            if time.time() > end:
                raise AssertionError("timeout waiting for %r" % token)
            r, _, _ = select.select([self.p.stdout], [], [], 1)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError("QEMU exited before %r" % token)
                self.buf += chunk
        return time.time() - self.t0

    def type(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def finish(self, log, timeout):
        rc = self.p.wait(timeout)
        self.buf += self.p.stdout.read()
        open(log, "wb").write(self.buf)
        return rc, time.time() - self.t0


def command_mode():
    g = Guest(BASE + " -- JKVM-COMMAND echo hello; nproc; uname -r")
    try:
        t = g.expect("JKVM-INIT-OK", 900)
        g.expect("hello", 60)
        g.expect("JKVM-EXIT=0", 60)
        rc, total = g.finish("smoke-command.log", 120)
        print("command mode: marker after %.1f s, QEMU exit %d after %.1f s" % (t, rc, total))
    finally:
        if g.p.poll() is None:
            g.p.kill()
            open("smoke-command.log", "wb").write(g.buf)


def interactive_mode():
    g = Guest(BASE)
    try:
        t = g.expect("JKVM-INIT-OK", 900)
        time.sleep(2)
        g.type("echo $((6*7))\n")
        g.expect("\n42", 60)
        g.type("sleep 30\n")
        time.sleep(3)
        g.type("\x03")
        g.type("echo status=$?\n")
        g.expect("status=130", 30)
        g.type("reboot -f\n")
        rc, total = g.finish("smoke-interactive.log", 120)
        print("interactive mode: marker after %.1f s, 42 and Ctrl-C ok, reboot -f ended QEMU (exit %d) after %.1f s"
              % (t, rc, total))
    finally:
        if g.p.poll() is None:
            g.p.kill()
            open("smoke-interactive.log", "wb").write(g.buf)


command_mode()
interactive_mode()
