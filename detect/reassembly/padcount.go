package reassembly

// countPadding returns how many bytes of b are JSON whitespace (space,
// tab, CR, LF): the count every delivered segment of a capped stream
// takes, so that padding does not use up the cap. It is the same count
// as isPadding byte by byte; on amd64 a segment of 16 bytes or more is
// compared 16 bytes at a time against the four bytes at once (one pass
// where four bytes.Count passes cost 3.4 instructions per byte,
// callgrind).
func countPadding(b []byte) int {
	if len(b) >= 16 {
		return countPaddingLong(b)
	}
	c := 0
	for _, x := range b {
		if isPadding(x) {
			c++
		}
	}
	return c
}
