// Package splitmix holds SplitMix64's finaliser, the fixed, well-spread
// 64-bit mix that flow ids, the intel summaries' distinct-source sketch
// and the hostile-capture generator use. It has no seed on purpose: the
// same input gives the same output in every run and process (unlike
// hash/maphash), so ids and summaries are reproducible.
package splitmix

// Mix is SplitMix64's finaliser: every input bit affects every output bit.
func Mix(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Next is SplitMix64's output function for state x: Mix of x advanced by
// the golden-ratio increment.
func Next(x uint64) uint64 { return Mix(x + 0x9e3779b97f4a7c15) }
