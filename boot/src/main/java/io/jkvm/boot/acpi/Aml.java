package io.jkvm.boot.acpi;

import java.util.List;

/** Short factories for building AML the way ASL reads: {@code device("COM1", name("_HID", eisaId("PNP0501")))}. */
public final class Aml {
    private Aml() {}

    /** End Tag (ACPI 6.4 §6.4.2.9): small type 0x0F length 1, then a checksum; 0 means "treat as valid". */
    private static final byte[] END_TAG = {0x79, 0x00};

    public static AmlStatement name(String path, AmlData value) {
        return new AmlStatement.Name(path, value);
    }

    public static AmlStatement scope(String path, AmlStatement... body) {
        return new AmlStatement.Scope(path, List.of(body));
    }

    public static AmlStatement device(String path, AmlStatement... body) {
        return new AmlStatement.Device(path, List.of(body));
    }

    public static AmlStatement method(String path, int argCount, boolean serialized, AmlStatement... body) {
        return new AmlStatement.Method(path, argCount, serialized, 0, List.of(body));
    }

    public static AmlStatement returnValue(AmlData value) {
        return new AmlStatement.Return(value);
    }

    public static AmlData integer(long value) {
        return new AmlData.IntegerConst(value);
    }

    public static AmlData string(String value) {
        return new AmlData.StringConst(value);
    }

    /** ASL {@code EISAID("PNP0501")}: the compressed id as an integer (see {@link EisaId}). */
    public static AmlData eisaId(String id) {
        return new AmlData.IntegerConst(EisaId.encode(id));
    }

    public static AmlData buffer(byte[] bytes) {
        return new AmlData.BufferConst(bytes);
    }

    public static AmlData pkg(AmlData... elements) {
        return new AmlData.PackageConst(List.of(elements));
    }

    public static AmlData nameRef(String path) {
        return new AmlData.NameRef(path);
    }

    /** ASL {@code ResourceTemplate() {...}}: a buffer of the descriptors and an End Tag. */
    public static AmlData resourceTemplate(ResourceDescriptor... descriptors) {
        ByteWriter out = new ByteWriter();
        for (ResourceDescriptor d : descriptors) d.encode(out);
        out.bytes(END_TAG);
        return new AmlData.BufferConst(out.toByteArray());
    }
}
