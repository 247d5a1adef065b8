package io.jkvm.kvm;

import static io.jkvm.kvm.sys.KvmStructs.Fpu.*;

import java.nio.ByteBuffer;

/**
 * A vCPU's x87 and SSE state (struct kvm_fpu). Mutable; the setters chain. x87 registers and XMM
 * registers are raw bytes: fpr is 8 × 16 bytes, xmm is 16 × 16 bytes.
 */
public final class Fpu {
    private final byte[] fpr = new byte[FPR_BYTES];
    private final byte[] xmm = new byte[XMM_BYTES];
    private int fcw, fsw, ftwx, lastOpcode, mxcsr;
    private long lastIp, lastDp;

    public int fcw() { return fcw; }
    public Fpu fcw(int v) { fcw = v; return this; }
    public int fsw() { return fsw; }
    public Fpu fsw(int v) { fsw = v; return this; }
    /** The abridged (FXSAVE) tag word: one bit per register. */
    public int ftwx() { return ftwx; }
    public Fpu ftwx(int v) { ftwx = v; return this; }
    public int lastOpcode() { return lastOpcode; }
    public Fpu lastOpcode(int v) { lastOpcode = v; return this; }
    public long lastIp() { return lastIp; }
    public Fpu lastIp(long v) { lastIp = v; return this; }
    public long lastDp() { return lastDp; }
    public Fpu lastDp(long v) { lastDp = v; return this; }
    public int mxcsr() { return mxcsr; }
    public Fpu mxcsr(int v) { mxcsr = v; return this; }
    /** The x87 register bytes, 8 × 16; changes write through. */
    public byte[] fpr() { return fpr; }
    /** The XMM register bytes, 16 × 16; changes write through. */
    public byte[] xmm() { return xmm; }

    static Fpu read(ByteBuffer b) {
        Fpu f = new Fpu();
        b.get(FPR, f.fpr);
        b.get(XMM, f.xmm);
        f.fcw = Short.toUnsignedInt(b.getShort(FCW));
        f.fsw = Short.toUnsignedInt(b.getShort(FSW));
        f.ftwx = Byte.toUnsignedInt(b.get(FTWX));
        f.lastOpcode = Short.toUnsignedInt(b.getShort(LAST_OPCODE));
        f.lastIp = b.getLong(LAST_IP);
        f.lastDp = b.getLong(LAST_DP);
        f.mxcsr = b.getInt(MXCSR);
        return f;
    }

    void write(ByteBuffer b) {
        b.put(FPR, fpr);
        b.put(XMM, xmm);
        b.putShort(FCW, (short) fcw);
        b.putShort(FSW, (short) fsw);
        b.put(FTWX, (byte) ftwx);
        b.putShort(LAST_OPCODE, (short) lastOpcode);
        b.putLong(LAST_IP, lastIp);
        b.putLong(LAST_DP, lastDp);
        b.putInt(MXCSR, mxcsr);
    }
}
