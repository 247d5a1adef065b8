/*
 * 64-bit long mode, any number of vCPUs, for snapshot/restore: every vCPU counts forever in its own
 * 64-byte block at COUNTERS + 64 * (initial APIC id), checking on every count that the TSC never went
 * backwards. Every 1024 counts it writes GOOD to port 0x80 and then counts that write in OUTS, so a host
 * that counts the port writes can tell a write replayed or lost across a restore. A TSC seen going backwards
 * writes TSC_BACK to the port instead, forever. Expected results: snapshot-counter.expect.
 */
	.set	COUNTERS, 0x200000
	.set	COUNT, 0		/* counts so far */
	.set	LAST_TSC, 8		/* the TSC at the last count */
	.set	OUTS, 16		/* GOOD writes to the port so far */
	.set	PORT, 0x80
	.set	GOOD, 0x600d
	.set	TSC_BACK, 0xbad75c
	.code64
	.text
	.globl	_start
_start:
	mov	$1, %eax
	cpuid				/* CPUID.01H:EBX[31:24] is the initial APIC id (SDM Vol. 2A CPUID) */
	shr	$24, %ebx
	shl	$6, %rbx
	add	$COUNTERS, %rbx
next:
	rdtsc				/* EDX:EAX */
	shl	$32, %rdx
	or	%rax, %rdx
	cmp	LAST_TSC(%rbx), %rdx
	jb	tsc_back		/* unsigned: below the last value seen on this vCPU */
	mov	%rdx, LAST_TSC(%rbx)
	incq	COUNT(%rbx)
	testl	$0x3ff, COUNT(%rbx)
	jnz	next
	mov	$PORT, %dx
	mov	$GOOD, %eax
	out	%eax, (%dx)
	incq	OUTS(%rbx)
	jmp	next

tsc_back:
	mov	$PORT, %dx
	mov	$TSC_BACK, %eax
	out	%eax, (%dx)
	jmp	tsc_back
