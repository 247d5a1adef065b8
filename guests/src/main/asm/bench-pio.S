/*
 * Benchmark guest, 32-bit protected mode: one 1-byte port write per iteration, forever.
 * Every iteration is one KVM_EXIT_IO round trip. Declared exit: bench-pio.expect.
 */
	.set	BENCH_PORT, 0x80	/* the POST-code port: a write-only sink on PCs */
	.set	BENCH_VALUE, 0x2a

	.code32
	.text
	.globl	_start
_start:
	mov	$BENCH_PORT, %dx
	mov	$BENCH_VALUE, %al
loop:
	out	%al, (%dx)
	jmp	loop
