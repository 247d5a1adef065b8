package io.jkvm.boot.acpi;

import java.util.List;

/** Extended System Description Table (ACPI 6.4 §5.2.8): 64-bit addresses of the other tables but the DSDT. */
record Xsdt(List<Long> tableAddresses) {
    static final String SIGNATURE = "XSDT";
    static final int REVISION = 1;

    Xsdt {
        tableAddresses = List.copyOf(tableAddresses);
    }

    byte[] toBytes() {
        ByteWriter b = new ByteWriter();
        for (long a : tableAddresses) b.u64(a);
        return SystemDescriptionTable.build(SIGNATURE, REVISION, "JKVMXSDT", b.toByteArray());
    }
}
