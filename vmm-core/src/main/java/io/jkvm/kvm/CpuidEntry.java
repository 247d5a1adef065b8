package io.jkvm.kvm;

import io.jkvm.kvm.sys.KvmStructs;
import java.nio.ByteBuffer;

/**
 * One CPUID leaf as KVM reports and takes it (struct kvm_cpuid_entry2): {@code function} is EAX on input,
 * {@code index} ECX on input for leaves with sub-leaves, {@code flags} KVM_CPUID_FLAG_* .
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    /** KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the leaf has sub-leaves selected by ECX (asm/kvm.h). */
    public static final int FLAG_SIGNIFICANT_INDEX = 0b1;

    public CpuidEntry withRegisters(int eax, int ebx, int ecx, int edx) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, edx);
    }

    static CpuidEntry read(ByteBuffer b, int at) {
        return new CpuidEntry(b.getInt(at + KvmStructs.CpuidEntry2.FUNCTION), b.getInt(at + KvmStructs.CpuidEntry2.INDEX),
                b.getInt(at + KvmStructs.CpuidEntry2.FLAGS), b.getInt(at + KvmStructs.CpuidEntry2.EAX),
                b.getInt(at + KvmStructs.CpuidEntry2.EBX), b.getInt(at + KvmStructs.CpuidEntry2.ECX),
                b.getInt(at + KvmStructs.CpuidEntry2.EDX));
    }

    void write(ByteBuffer b, int at) {
        b.putInt(at + KvmStructs.CpuidEntry2.FUNCTION, function);
        b.putInt(at + KvmStructs.CpuidEntry2.INDEX, index);
        b.putInt(at + KvmStructs.CpuidEntry2.FLAGS, flags);
        b.putInt(at + KvmStructs.CpuidEntry2.EAX, eax);
        b.putInt(at + KvmStructs.CpuidEntry2.EBX, ebx);
        b.putInt(at + KvmStructs.CpuidEntry2.ECX, ecx);
        b.putInt(at + KvmStructs.CpuidEntry2.EDX, edx);
    }
}
