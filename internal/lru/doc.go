// Package lru is a bounded map with least-recently-used eviction, for the
// tables minerwatch keys by traffic (hosts, DNS names, listed endpoints):
// an attacker chooses how many distinct keys it sends, so every such table
// has a cap, and what falls out of it is counted, not silently lost.
//
//	m := lru.New[netip.Addr, *Summary](1 << 16)
//	s, ok := m.Get(addr)
//	if !ok {
//		s = &Summary{}
//		m.Put(addr, s) // may evict the least recently used host
//	}
//	_ = m.Evicted()
//
// Entries live in one slice linked by index, so a full map costs its keys
// and values plus 8 bytes each, and no allocation per insertion once it
// has reached its cap. A Map is not safe for concurrent use.
package lru
