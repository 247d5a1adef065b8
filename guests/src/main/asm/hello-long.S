/*
 * 64-bit long mode (the host builds identity page tables, sets CR3/CR4.PAE/CR0.PG/EFER.LME|LMA and a
 * 64-bit GDT): prints a greeting, stores a quadword at 3 MiB, reports EFER.LMA in R12 and halts.
 * Expected results: hello-long.expect.
 */
	.include "serial.inc"
	.code64
	.text
	.globl	_start
_start:
	PUTS	%rsi, message
	movabs	$0x0123456789abcdef, %rbx
	mov	%rbx, 0x300000
	mov	$0xc0000080, %ecx	/* IA32_EFER (SDM Vol. 4 Table 2-2) */
	rdmsr
	shr	$10, %eax		/* EFER.LMA is bit 10 */
	and	$0b1, %eax
	mov	%rax, %r12
	hlt

message:
	.asciz	"Hello from long mode\n"
