//go:build !purego

package reassembly

// countPaddingLong counts the JSON whitespace bytes of b, at least 16
// bytes long (SSE2, which every amd64 has; padcount_amd64.s).
//
//go:noescape
func countPaddingLong(b []byte) int
