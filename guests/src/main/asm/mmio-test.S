/*
 * 32-bit protected mode: exercises the test register device the runner places on the MMIO bus at
 * TEST_DEVICE (register layout in guests/README.md), checks every read-back and reports
 * "MMIO ok\n" or "MMIO FAIL\n" on the serial port, then halts. EBX holds the inverted register's value.
 */
	.include "serial.inc"
	.set	TEST_DEVICE, 0xd0000000
	.set	REG_ID, 0x0		/* read-only identity, "jkvm" little-endian */
	.set	REG_SCRATCH, 0x4	/* read/write */
	.set	REG_INVERTED, 0x8	/* reads ~SCRATCH */
	.set	DEVICE_ID, 0x6d766b6a
	.set	PATTERN, 0x12345678

	.code32
	.text
	.globl	_start
_start:
	mov	$TEST_DEVICE, %edi
	cmpl	$DEVICE_ID, REG_ID(%edi)
	jne	fail
	movl	$PATTERN, REG_SCRATCH(%edi)
	cmpl	$PATTERN, REG_SCRATCH(%edi)
	jne	fail
	mov	REG_INVERTED(%edi), %ebx
	cmp	$~PATTERN, %ebx
	jne	fail
	movl	$0, REG_ID(%edi)	/* a write to the read-only register must not stick */
	cmpl	$DEVICE_ID, REG_ID(%edi)
	jne	fail
	PUTS	%esi, ok
	hlt
fail:
	PUTS	%esi, failed
	hlt

ok:
	.asciz	"MMIO ok\n"
failed:
	.asciz	"MMIO FAIL\n"
