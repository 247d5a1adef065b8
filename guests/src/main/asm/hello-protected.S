/*
 * 32-bit protected mode with flat segments (the host sets CR0.PE and the GDT): prints a greeting,
 * stores a dword above 1 MiB (out of real-mode reach), reports CR0.PE in ECX and halts.
 * Expected results: hello-protected.expect.
 */
	.include "serial.inc"
	.code32
	.text
	.globl	_start
_start:
	PUTS	%esi, message
	movl	$0xcafef00d, 0x100000
	mov	%cr0, %ecx
	and	$0b1, %ecx		/* CR0.PE (SDM Vol. 3 §2.5) */
	mov	$0x32323232, %ebx
	hlt

message:
	.asciz	"Hello from protected mode\n"
