/**
 * The legacy PC devices a Linux guest probes on a PC: pure register models that see bus offsets only
 * and reach the outside through injected collaborators (interrupt lines, byte sink, clock, reset
 * callback). Where they sit is the machine assembly's choice; on a PC:
 *
 * <table>
 *   <caption>PC port I/O placement</caption>
 *   <tr><th>device</th><th>ports (base, length)</th><th>IRQ</th></tr>
 *   <tr><td>{@link io.jkvm.devices.legacy.Uart16550} (COM1)</td><td>0x3F8, {@value io.jkvm.devices.legacy.Uart16550#PORT_COUNT}</td><td>4</td></tr>
 *   <tr><td>{@link io.jkvm.devices.legacy.I8042} data / command</td><td>0x60, 1 and 0x64, 1</td><td>1 and 12</td></tr>
 *   <tr><td>{@link io.jkvm.devices.legacy.CmosRtc}</td><td>0x70, {@value io.jkvm.devices.legacy.CmosRtc#PORT_COUNT}</td><td>none (IRQ 8 not modelled)</td></tr>
 *   <tr><td>{@link io.jkvm.devices.legacy.PostCodePort}</td><td>0x80, 1</td><td>—</td></tr>
 *   <tr><td>{@link io.jkvm.devices.legacy.QuietPort}</td><td>e.g. 0x87, 0xED; 0x61 without an in-kernel PIT</td><td>—</td></tr>
 * </table>
 *
 * COM2–COM4 are left unclaimed: the bus reads them as all-ones and Linux finds no UART there.
 */
package io.jkvm.devices.legacy;
