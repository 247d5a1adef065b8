package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;
import io.jkvm.kvm.sys.NativeException;
import io.jkvm.snapshot.SnapshotFormatException;
import io.jkvm.snapshot.StateReader;
import io.jkvm.snapshot.StateWriter;
import io.jkvm.snapshot.Stateful;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The state a VM holds in the kernel besides its vCPUs: the in-kernel interrupt controllers (PIC master,
 * PIC slave, IOAPIC: KVM_GET_IRQCHIP), the PIT (KVM_GET_PIT2) and kvmclock (KVM_GET_CLOCK). The VM must
 * have been built with {@link Vm#createIrqchip()} and {@link Vm#createPit2()}, and its vCPUs paused. On
 * restore kvmclock is set to the saved value (KVM_SET_CLOCK, flags 0), so guest time runs on from the
 * snapshot as if the VM had only been paused, as Firecracker does; the vCPUs' TSCs do the same
 * ({@link VcpuState}).
 */
public final class VmState implements Stateful {
    private static final int[] CHIPS = {
            KvmStructs.Irqchip.PIC_MASTER, KvmStructs.Irqchip.PIC_SLAVE, KvmStructs.Irqchip.IOAPIC};
    private static final String[] CHIP_NAMES = {"PIC master", "PIC slave", "IOAPIC"};

    private final Vm vm;

    public VmState(Vm vm) {
        this.vm = vm;
    }

    @Override
    public void saveState(StateWriter out) {
        for (int chip : CHIPS) out.bytes(vm.getIrqchip(chip));
        out.bytes(vm.getPit2());
        out.u64(vm.getClock());
    }

    @Override
    public void restoreState(StateReader in) {
        byte[][] chips = new byte[CHIPS.length][];
        for (int i = 0; i < CHIPS.length; i++) {
            chips[i] = in.bytes("the " + CHIP_NAMES[i] + " state", KvmStructs.Irqchip.SIZE);
            int id = ByteBuffer.wrap(chips[i]).order(ByteOrder.LITTLE_ENDIAN).getInt(KvmStructs.Irqchip.CHIP_ID);
            if (id != CHIPS[i]) throw new SnapshotFormatException("the " + CHIP_NAMES[i] + " state names chip " + id);
        }
        byte[] pit = in.bytes("the PIT state", KvmStructs.PitState2.SIZE);
        long clock = in.u64();

        for (int i = 0; i < CHIPS.length; i++) {
            byte[] chip = chips[i];
            apply(CHIP_NAMES[i], () -> vm.setIrqchip(chip));
        }
        apply("PIT", () -> vm.setPit2(pit));
        apply("kvmclock", () -> vm.setClock(clock));
    }

    private static void apply(String what, Runnable set) {
        try {
            set.run();
        } catch (NativeException e) {
            throw new SnapshotFormatException("KVM refused the saved " + what + " state: " + e.getMessage());
        }
    }
}
