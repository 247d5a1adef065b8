/*
 * Benchmark guest, 32-bit protected mode: one 4-byte write to an unbacked guest-physical address per
 * iteration, forever. Every iteration is one KVM_EXIT_MMIO round trip. Declared exit: bench-mmio.expect.
 */
	.set	BENCH_MMIO, 0xd0000000
	.set	BENCH_VALUE, 0x2a

	.code32
	.text
	.globl	_start
_start:
	mov	$BENCH_MMIO, %edi
	mov	$BENCH_VALUE, %eax
loop:
	mov	%eax, (%edi)
	jmp	loop
