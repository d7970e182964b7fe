// Package wyfold is wyhash's multiply-fold, the step the Go runtime's
// hash uses where it has no AES instructions: two 64-bit words multiplied
// into 128 bits, the halves xored. The flow table's index
// (features/flows) and the workers' spreader (detect/online) hash flow
// keys with it, each word first mixed with a secret of their own, so
// keys chosen to collide need the secret.
package wyfold

import "math/bits"

// Fold returns the two halves of a × b (128 bits) xored. A zero operand
// zeroes the product, dropping the other: callers mix a secret into both.
func Fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
