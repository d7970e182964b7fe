//go:build !purego

package reassembly

// countPadding16 counts the JSON whitespace bytes of b, whose length is a
// multiple of 16 (SSE2, which every amd64 has; padcount_amd64.s).
//
//go:noescape
func countPadding16(b []byte) int
