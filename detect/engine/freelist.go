package engine

// freeList recycles per-flow records, parsers and signature state. An engine runs on one
// goroutine, so a slice does what sync.Pool would, without its per-GC
// flushes.
type freeList[T any] struct{ items []*T }

// maxFree bounds each free list: enough for the hellos in flight at once
// on a busy link and for the flows ending between two starting ones, and
// a past flood does not stay resident.
const maxFree = 256

func (l *freeList[T]) get() *T {
	n := len(l.items)
	if n == 0 {
		return new(T)
	}
	x := l.items[n-1]
	l.items[n-1] = nil
	l.items = l.items[:n-1]
	return x
}

// put takes x back; the caller has reset it.
func (l *freeList[T]) put(x *T) {
	if len(l.items) < maxFree {
		l.items = append(l.items, x)
	}
}

// putTLS recycles fi's TLS parser, if it has one.
func (e *Engine) putTLS(fi *FlowInfo) {
	if ps := fi.par; ps != nil && ps.tls != nil {
		ps.tls.Reset()
		e.tlsFree.put(ps.tls)
		ps.tls = nil
	}
}

// putQUIC recycles fi's QUIC parser, if it has one.
func (e *Engine) putQUIC(fi *FlowInfo) {
	if ps := fi.par; ps != nil && ps.quic != nil {
		ps.quic.Reset()
		e.quicFree.put(ps.quic)
		ps.quic = nil
	}
}
