/**
 * The KVM fd hierarchy and the vCPU run loop.
 *
 * <p>{@link io.jkvm.kvm.Kvm#open()} → {@link io.jkvm.kvm.Kvm#createVm()} → {@link io.jkvm.kvm.Vm#createVcpu(int)}:
 * each fd (and the vCPU's kvm_run mapping) has one owner, and each owner closes what it created, newest first,
 * before itself. Guest memory ({@link io.jkvm.memory.GuestMemory}) belongs to the caller and must outlive the VM.
 *
 * <p>A vCPU's state is set up through the value types ({@link io.jkvm.kvm.Regs}, {@link io.jkvm.kvm.Sregs},
 * {@link io.jkvm.kvm.Fpu}, {@link io.jkvm.kvm.CpuidEntry}, {@link io.jkvm.kvm.MsrEntry},
 * {@link io.jkvm.kvm.LapicState}, {@link io.jkvm.kvm.VcpuEvents}) before its {@link io.jkvm.kvm.VcpuRunner}
 * starts; from then on only the runner's thread issues that vCPU's ioctls.
 */
package io.jkvm.kvm;
