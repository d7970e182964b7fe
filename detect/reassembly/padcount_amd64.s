//go:build !purego

#include "textflag.h"

// tailmask<>+r is 16-r zero bytes, then r 0xFF bytes: it keeps the last
// r bytes of a 16-byte load.
DATA tailmask<>+0(SB)/8, $0
DATA tailmask<>+8(SB)/8, $0
DATA tailmask<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask<>+24(SB)/8, $0xffffffffffffffff
GLOBL tailmask<>(SB), RODATA|NOPTR, $32

// func countPaddingLong(b []byte) int
//
// Each 16-byte block is compared with ' ', '\t', '\n' and '\r' (PCMPEQB
// gives 0xFF per equal byte); the OR of the four is subtracted from a
// vector of byte counters (adding 1 per whitespace byte), which PSADBW
// sums into the total every 255 blocks, before a counter can wrap. The
// last len%16 bytes are read as the last 16 bytes of b (len(b) >= 16),
// masked to the bytes the blocks did not cover.
TEXT ·countPaddingLong(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ CX, R8
	ANDQ $15, R8
	SHRQ $4, CX
	MOVQ $0x2020202020202020, AX
	MOVQ AX, X4
	PUNPCKLQDQ X4, X4
	MOVQ $0x0909090909090909, AX
	MOVQ AX, X5
	PUNPCKLQDQ X5, X5
	MOVQ $0x0a0a0a0a0a0a0a0a, AX
	MOVQ AX, X6
	PUNPCKLQDQ X6, X6
	MOVQ $0x0d0d0d0d0d0d0d0d, AX
	MOVQ AX, X7
	PUNPCKLQDQ X7, X7
	PXOR X8, X8
	PXOR X9, X9

outer:
	TESTQ CX, CX
	JZ    tail
	MOVQ  $255, DX
	CMPQ  CX, DX
	JAE   run
	MOVQ  CX, DX

run:
	SUBQ DX, CX
	PXOR X3, X3

inner:
	MOVOU   (SI), X0
	MOVO    X0, X1
	PCMPEQB X4, X1
	MOVO    X0, X2
	PCMPEQB X5, X2
	POR     X2, X1
	MOVO    X0, X2
	PCMPEQB X6, X2
	POR     X2, X1
	PCMPEQB X7, X0
	POR     X0, X1
	PSUBB   X1, X3
	ADDQ    $16, SI
	DECQ    DX
	JNZ     inner
	PSADBW  X8, X3
	PADDQ   X3, X9
	JMP     outer

tail:
	TESTQ   R8, R8
	JZ      done
	LEAQ    -16(SI)(R8*1), DI
	MOVOU   (DI), X0
	MOVO    X0, X1
	PCMPEQB X4, X1
	MOVO    X0, X2
	PCMPEQB X5, X2
	POR     X2, X1
	MOVO    X0, X2
	PCMPEQB X6, X2
	POR     X2, X1
	PCMPEQB X7, X0
	POR     X0, X1
	LEAQ    tailmask<>(SB), DI
	MOVOU   (DI)(R8*1), X2
	PAND    X2, X1
	PXOR    X3, X3
	PSUBB   X1, X3
	PSADBW  X8, X3
	PADDQ   X3, X9

done:
	MOVQ   X9, AX
	PSRLDQ $8, X9
	MOVQ   X9, BX
	ADDQ   BX, AX
	MOVQ   AX, ret+24(FP)
	RET
