//go:build !amd64 || purego

package reassembly

// countPaddingLong counts the JSON whitespace bytes of b (the portable
// form of padcount_amd64.s).
func countPaddingLong(b []byte) int {
	c := 0
	for _, x := range b {
		if isPadding(x) {
			c++
		}
	}
	return c
}
