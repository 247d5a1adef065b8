package io.jkvm.boot.acpi;

/**
 * An AML term (ACPI 6.4 §20.2): either a statement that can stand in a TermList ({@link AmlStatement}) or a
 * data object that is a value ({@link AmlData}). Closed set: every kind jkvm's tables need, nothing more.
 */
public sealed interface AmlTerm permits AmlStatement, AmlData {
    /** Appends this term's AML encoding. */
    void encode(ByteWriter out);

    /** This term's AML encoding. */
    default byte[] toBytes() {
        ByteWriter out = new ByteWriter();
        encode(out);
        return out.toByteArray();
    }
}
