package io.jkvm.boot.acpi;

import static io.jkvm.boot.acpi.Aml.device;
import static io.jkvm.boot.acpi.Aml.eisaId;
import static io.jkvm.boot.acpi.Aml.integer;
import static io.jkvm.boot.acpi.Aml.name;
import static io.jkvm.boot.acpi.Aml.pkg;
import static io.jkvm.boot.acpi.Aml.resourceTemplate;
import static io.jkvm.boot.acpi.Aml.scope;
import static io.jkvm.boot.acpi.Aml.string;

import io.jkvm.boot.acpi.ResourceDescriptor.ExtendedInterrupt;
import io.jkvm.boot.acpi.ResourceDescriptor.IoPort;
import io.jkvm.boot.acpi.ResourceDescriptor.Memory32Fixed;
import java.util.ArrayList;
import java.util.List;

/**
 * Differentiated System Description Table (ACPI 6.4 §5.2.11.1), revision 2 (64-bit integers): a
 * definition block whose devices sit in {@code \_SB}, plus the {@code \_S5} soft-off object (§7.4.2.6).
 *
 * <pre>
 * Scope (\_SB) {
 *     Device (COM1) { Name (_HID, EisaId ("PNP0501")) Name (_UID, 0)
 *                     Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 1, 8)
 *                                                       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {4} }) }
 *     Device (RTC_) { Name (_HID, EisaId ("PNP0B00"))
 *                     Name (_CRS, ResourceTemplate () { IO (Decode16, 0x70, 0x70, 1, 2)
 *                                                       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {8} }) }
 *     Device (KBD_) { Name (_HID, EisaId ("PNP0303"))
 *                     Name (_CRS, ResourceTemplate () { IO (Decode16, 0x60, 0x60, 1, 1) IO (Decode16, 0x64, 0x64, 1, 1)
 *                                                       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {1} }) }
 *     Device (V000) { Name (_HID, "LNRO0005") Name (_UID, 0)
 *                     Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, base, size)
 *                                                       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {gsi} }) }
 * }
 * Name (\_S5, Package () { s5, 0, 0, 0 })
 * </pre>
 */
public final class Dsdt {
    static final String SIGNATURE = "DSDT";
    static final int REVISION = 2;
    /** Linux's virtio_mmio driver matches this _HID (drivers/virtio/virtio_mmio.c). */
    static final String VIRTIO_MMIO_HID = "LNRO0005";
    /** 16550-compatible serial port (PNP ID list). */
    static final String SERIAL_PORT_EISA_ID = "PNP0501";
    private static final int SERIAL_PORT_IO_LENGTH = 8;
    /** AT real-time clock, the MC146818 (PNP ID list); Linux's rtc_cmos driver binds to it. */
    static final String CMOS_RTC_EISA_ID = "PNP0B00";
    /** Index and data port. */
    private static final int CMOS_RTC_IO_LENGTH = 2;
    /** IBM Enhanced (101/102-key, PS/2 mouse support) keyboard controller (PNP ID list); Linux's i8042 binds to it. */
    static final String PS2_KEYBOARD_EISA_ID = "PNP0303";

    private final int s5SleepType;
    private final List<AmlStatement> devices = new ArrayList<>();
    private int serialPorts;
    private int virtioDevices;

    /** @param s5SleepType the SLP_TYPx value the guest writes to the Sleep Control Register to power off */
    public Dsdt(int s5SleepType) {
        if (s5SleepType < 0 || s5SleepType > 7) throw new IllegalArgumentException("SLP_TYPx is 3 bits: " + s5SleepType);
        this.s5SleepType = s5SleepType;
    }

    /** Adds COM{n+1} ({@code _UID} n, n counting from 0): an ISA 16550 at {@code ioBase} on edge-triggered {@code gsi}. */
    public Dsdt addSerialPort(int ioBase, int gsi) {
        int uid = serialPorts++;
        devices.add(device("COM" + (uid + 1),
                name("_HID", eisaId(SERIAL_PORT_EISA_ID)),
                name("_UID", integer(uid)),
                name("_CRS", resourceTemplate(
                        IoPort.fixed(ioBase, SERIAL_PORT_IO_LENGTH),
                        ExtendedInterrupt.of(gsi, InterruptTrigger.EDGE, InterruptPolarity.ACTIVE_HIGH)))));
        return this;
    }

    /**
     * Adds the CMOS RTC at {@code ioBase} on edge-triggered {@code gsi}. On a hardware-reduced machine Linux
     * maps only the interrupts ACPI names, so without this device rtc_cmos cannot get IRQ 8 and fails to
     * probe (-EINVAL), as QEMU's microvm also found.
     */
    public Dsdt addCmosRtc(int ioBase, int gsi) {
        return addIsaDevice("RTC", CMOS_RTC_EISA_ID, gsi, IoPort.fixed(ioBase, CMOS_RTC_IO_LENGTH));
    }

    /**
     * Adds the i8042's keyboard port: data port, then command port (the order Linux's i8042 PNP probe reads
     * them in), on edge-triggered {@code gsi}. As for the RTC, a hardware-reduced machine must name IRQ 1
     * for the keyboard to get it; no mouse device is described, so Linux leaves the AUX port alone.
     */
    public Dsdt addPs2Keyboard(int dataPort, int commandPort, int gsi) {
        return addIsaDevice("KBD", PS2_KEYBOARD_EISA_ID, gsi, IoPort.fixed(dataPort, 1), IoPort.fixed(commandPort, 1));
    }

    private Dsdt addIsaDevice(String deviceName, String eisaIdText, int gsi, IoPort... ports) {
        List<ResourceDescriptor> resources = new ArrayList<>(List.of(ports));
        resources.add(ExtendedInterrupt.of(gsi, InterruptTrigger.EDGE, InterruptPolarity.ACTIVE_HIGH));
        devices.add(device(deviceName,
                name("_HID", eisaId(eisaIdText)),
                name("_CRS", resourceTemplate(resources.toArray(ResourceDescriptor[]::new)))));
        return this;
    }

    /**
     * Adds device {@code Vnnn} (hex, {@code _UID} n, n counting from 0) for a virtio-mmio window. The interrupt is
     * edge-triggered, active-high and exclusive, as Firecracker declares it: jkvm signals it through an irqfd,
     * which pulses the GSI, and Linux's handler reads InterruptStatus on each edge.
     */
    public Dsdt addVirtioMmio(VirtioMmioWindow window) {
        int uid = virtioDevices++;
        if (uid > 0xFFF) throw new IllegalStateException("at most 4096 virtio-mmio devices");
        devices.add(device(String.format("V%03X", uid),
                name("_HID", string(VIRTIO_MMIO_HID)),
                name("_UID", integer(uid)),
                name("_CRS", resourceTemplate(
                        new Memory32Fixed(true, window.base(), window.size()),
                        ExtendedInterrupt.of(window.gsi(), InterruptTrigger.EDGE, InterruptPolarity.ACTIVE_HIGH)))));
        return this;
    }

    /** The table: header and AML. */
    public byte[] toBytes() {
        ByteWriter aml = new ByteWriter();
        scope("\\_SB", devices.toArray(AmlStatement[]::new)).encode(aml);
        // Only the first element is used on a hardware-reduced platform (§7.4.2); 4 elements as usual, since
        // older Linux (acpi_get_sleep_type_data) insisted on at least two.
        name("\\_S5", pkg(integer(s5SleepType), integer(0), integer(0), integer(0))).encode(aml);
        return SystemDescriptionTable.build(SIGNATURE, REVISION, "JKVMDSDT", aml.toByteArray());
    }
}
