package io.jkvm.boot.acpi;

/** FADT Preferred_PM_Profile values (ACPI 6.4 §5.2.9, Table 5.9). */
public enum PmProfile {
    UNSPECIFIED, DESKTOP, MOBILE, WORKSTATION, ENTERPRISE_SERVER, SOHO_SERVER, APPLIANCE_PC, PERFORMANCE_SERVER, TABLET;

    int value() {
        return ordinal();
    }
}
