/*
 * Real mode (16-bit, CS=DS=0): prints a greeting through port I/O, stores a word in memory, leaves a
 * marker in EBX and halts. Expected results: hello-real.expect.
 */
	.include "serial.inc"
	.code16
	.text
	.globl	_start
_start:
	xor	%ax, %ax
	mov	%ax, %ds
	PUTS	%si, message
	movw	$0xbeef, 0x3000
	mov	$0x1badb002, %ebx
	hlt

message:
	.asciz	"Hello from real mode\n"
