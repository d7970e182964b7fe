//go:build !purego

#include "textflag.h"

// func countPadding16(b []byte) int
//
// Each 16-byte block is compared with ' ', '\t', '\n' and '\r' (PCMPEQB
// gives 0xFF per equal byte); the OR of the four is subtracted from a
// vector of byte counters (adding 1 per whitespace byte), which PSADBW
// sums into the total every 255 blocks, before a counter can wrap.
TEXT ·countPadding16(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
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
	JZ    done
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

done:
	MOVQ   X9, AX
	PSRLDQ $8, X9
	MOVQ   X9, BX
	ADDQ   BX, AX
	MOVQ   AX, ret+24(FP)
	RET
