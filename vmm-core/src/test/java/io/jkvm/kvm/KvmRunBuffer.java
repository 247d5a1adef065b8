package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Run.*;

import io.jkvm.kvm.sys.Native;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A hand-filled struct kvm_run in a plain native buffer, as KVM would leave it after an exit. */
final class KvmRunBuffer {
    /** Like the real mapping: kvm_run, then a page for PIO data. */
    static final int LENGTH = SIZE + 4096;
    /** Where KVM puts PIO data: right after the struct, as in the kernel (KVM_PIO_PAGE_OFFSET = 1 page). */
    static final int PIO_DATA = 4096;

    final ByteBuffer b = ByteBuffer.allocateDirect(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    final KvmRun run = new KvmRun(Native.address(b), LENGTH);

    KvmRunBuffer exit(ExitReason reason) {
        b.putInt(EXIT_REASON, reason.code());
        return this;
    }

    KvmRunBuffer io(boolean out, int size, int port, int count) {
        exit(ExitReason.IO);
        b.put(IO_DIRECTION, (byte) (out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN)).put(IO_SIZE, (byte) size)
                .putShort(IO_PORT, (short) port).putInt(IO_COUNT, count).putLong(IO_DATA_OFFSET, PIO_DATA);
        return this;
    }

    KvmRunBuffer mmio(long address, int len, boolean write, long data) {
        exit(ExitReason.MMIO);
        b.putLong(MMIO_PHYS_ADDR, address).putLong(MMIO_DATA, data).putInt(MMIO_LEN, len)
                .put(MMIO_IS_WRITE, (byte) (write ? 1 : 0));
        return this;
    }

    KvmRunBuffer emulationFailure(int... insn) {
        exit(ExitReason.INTERNAL_ERROR);
        b.putInt(INTERNAL_SUBERROR, KVM_INTERNAL_ERROR_EMULATION).putInt(INTERNAL_NDATA, 4)
                .putLong(EMULATION_FAILURE_FLAGS, insn.length > 0 ? KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES : 0)
                .put(EMULATION_FAILURE_INSN_SIZE, (byte) insn.length);
        for (int i = 0; i < insn.length; i++) b.put(EMULATION_FAILURE_INSN_BYTES + i, (byte) insn[i]);
        return this;
    }

    KvmRunBuffer systemEvent(int type) {
        exit(ExitReason.SYSTEM_EVENT);
        b.putInt(SYSTEM_EVENT_TYPE, type);
        return this;
    }
}
