package reassembly

import "sync/atomic"

// Budget is a global cap on bytes held out of order, shared by every
// Stream of every flow. It is safe for concurrent use. A nil *Budget
// means "no global cap".
type Budget struct {
	max     int64
	inUse   atomic.Int64
	peak    atomic.Int64
	refused atomic.Int64
}

// BudgetStats is a snapshot of a Budget's counters.
type BudgetStats struct {
	Max          int64 // the cap in bytes
	InUse        int64 // bytes held right now
	Peak         int64 // most bytes ever held at once
	RefusedBytes int64 // bytes refused because the cap was reached
}

// NewBudget returns a Budget that lets at most max bytes be held at once.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Take reserves n bytes and reports whether the reservation succeeded.
func (b *Budget) Take(n int) bool {
	if b == nil {
		return true
	}
	v := b.inUse.Add(int64(n))
	if v > b.max {
		b.inUse.Add(-int64(n))
		b.refused.Add(int64(n))
		return false
	}
	for {
		p := b.peak.Load()
		if v <= p || b.peak.CompareAndSwap(p, v) {
			return true
		}
	}
}

// Release returns n bytes taken earlier.
func (b *Budget) Release(n int) {
	if b == nil || n == 0 {
		return
	}
	b.inUse.Add(-int64(n))
}

// Stats returns the current counters.
func (b *Budget) Stats() BudgetStats {
	if b == nil {
		return BudgetStats{}
	}
	return BudgetStats{Max: b.max, InUse: b.inUse.Load(), Peak: b.peak.Load(), RefusedBytes: b.refused.Load()}
}
