// Package freelist recycles one kind of per-flow state among the flows of
// one goroutine (an engine, a signature stage's Shared): a slice does what
// sync.Pool would, without its flushes at every garbage collection, which
// on a busy link would hand most recycled state to the collector.
package freelist

// DefaultLimit is a List's bound when its Limit is 0: enough for the
// hellos in flight at once on a busy link and for the flows ending
// between two starting ones, and a past flood does not stay resident.
const DefaultLimit = 256

// List holds up to Limit recycled items (DefaultLimit when 0). The zero
// value is ready to use. It is not safe for concurrent use.
type List[T any] struct {
	items []*T
	Limit int
}

// Get returns a recycled item, or a new zero one.
func (l *List[T]) Get() *T {
	n := len(l.items)
	if n == 0 {
		return new(T)
	}
	x := l.items[n-1]
	l.items[n-1] = nil
	l.items = l.items[:n-1]
	return x
}

// Put takes x back unless the list is full; the caller has reset it.
func (l *List[T]) Put(x *T) {
	limit := l.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if len(l.items) < limit {
		l.items = append(l.items, x)
	}
}

// Len is the number of items held.
func (l *List[T]) Len() int { return len(l.items) }
