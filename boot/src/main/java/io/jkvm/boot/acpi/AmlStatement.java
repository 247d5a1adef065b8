package io.jkvm.boot.acpi;

import java.util.List;

/** AML objects and statements that may appear in a TermList (ACPI 6.4 §20.2.5). */
public sealed interface AmlStatement extends AmlTerm {
    /** {@code Name(path, value)}: DefName := NameOp NameString DataRefObject (§20.2.5.1). */
    record Name(String path, AmlData value) implements AmlStatement {
        public Name {
            NameString.encode(path);
        }

        @Override
        public void encode(ByteWriter out) {
            out.u8(AmlOp.NAME).bytes(NameString.encode(path));
            value.encode(out);
        }
    }

    /** {@code Scope(path) {...}}: DefScope := ScopeOp PkgLength NameString TermList (§20.2.5.1). */
    record Scope(String path, List<AmlStatement> body) implements AmlStatement {
        public Scope {
            NameString.encode(path);
            body = List.copyOf(body);
        }

        @Override
        public void encode(ByteWriter out) {
            out.u8(AmlOp.SCOPE).withPkgLength(namedTermList(path, body));
        }
    }

    /** {@code Device(path) {...}}: DefDevice := DeviceOp(0x5B 0x82) PkgLength NameString TermList (§20.2.5.2). */
    record Device(String path, List<AmlStatement> body) implements AmlStatement {
        public Device {
            NameString.encode(path);
            body = List.copyOf(body);
        }

        @Override
        public void encode(ByteWriter out) {
            out.u8(AmlOp.EXT_PREFIX).u8(AmlOp.DEVICE).withPkgLength(namedTermList(path, body));
        }
    }

    /**
     * {@code Method(path, argCount, Serialized|NotSerialized, syncLevel) {...}}: DefMethod := MethodOp PkgLength
     * NameString MethodFlags TermList; MethodFlags bits 2:0 ArgCount, bit 3 SerializeFlag, bits 7:4 SyncLevel
     * (§20.2.5.2).
     */
    record Method(String path, int argCount, boolean serialized, int syncLevel, List<AmlStatement> body)
            implements AmlStatement {
        public Method {
            NameString.encode(path);
            if (argCount < 0 || argCount > 7) throw new IllegalArgumentException("argCount 0-7: " + argCount);
            if (syncLevel < 0 || syncLevel > 15) throw new IllegalArgumentException("syncLevel 0-15: " + syncLevel);
            body = List.copyOf(body);
        }

        @Override
        public void encode(ByteWriter out) {
            ByteWriter content = new ByteWriter();
            content.bytes(NameString.encode(path)).u8(argCount | (serialized ? 0b1000 : 0) | syncLevel << 4);
            for (AmlStatement s : body) s.encode(content);
            out.u8(AmlOp.METHOD).withPkgLength(content.toByteArray());
        }
    }

    /** {@code Return(value)}: DefReturn := ReturnOp ArgObject (§20.2.5.3). */
    record Return(AmlData value) implements AmlStatement {
        @Override
        public void encode(ByteWriter out) {
            out.u8(AmlOp.RETURN);
            value.encode(out);
        }
    }

    private static byte[] namedTermList(String path, List<AmlStatement> body) {
        ByteWriter content = new ByteWriter();
        content.bytes(NameString.encode(path));
        for (AmlStatement s : body) s.encode(content);
        return content.toByteArray();
    }
}
