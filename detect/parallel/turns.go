package parallel

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// progress is how far one worker has walked the capture: every position
// below done is finished (its time-outs and, if the worker's, its packet).
type progress struct {
	done atomic.Int64
	// want is the smallest done a blocked waiter needs (0: nobody
	// waits), so that the worker wakes it without a lock per position.
	want atomic.Int64
	mu   sync.Mutex
	cond sync.Cond
	_    [64]byte // one cache line per worker: set is called per position
}

func (p *progress) set(v int64) {
	p.done.Store(v)
	if w := p.want.Load(); w != 0 && v >= w {
		p.mu.Lock()
		p.want.Store(0)
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// awaitSpins is how often a waiter yields before it blocks: the worker it
// waits for is usually a few packets behind.
const awaitSpins = 8

// await returns once done reaches v.
func (p *progress) await(v int64, waits *int64) {
	if p.done.Load() >= v {
		return
	}
	*waits++
	for range awaitSpins {
		runtime.Gosched()
		if p.done.Load() >= v {
			return
		}
	}
	p.mu.Lock()
	for p.done.Load() < v {
		if w := p.want.Load(); w == 0 || v < w {
			p.want.Store(v)
		}
		if p.done.Load() >= v { // set ran between the check and the store
			break
		}
		p.cond.Wait()
	}
	p.mu.Unlock()
}

// turns orders the workers' accesses to what their engines share (the
// intel's learned store, engine.Shared) as one engine's: a worker touches
// it at capture position q only once every other worker has finished
// every position before q (and q's time-outs), so every change made at an
// earlier position is in, and none made at a later one (a worker ahead
// would have waited for this one). Changes whose result nobody reads,
// made while flows end (pools confirmed by flows that time out or are
// flushed), are logged and applied in one table's order of those flows
// before the next access.
type turns struct {
	workers []progress
	mu      sync.Mutex // the shared state's lock: held between Enter and Leave
	pending []change
	seq     int64
}

// change is a deferred change to the shared state and where in the
// capture it was made.
type change struct {
	pos   int64
	phase uint8
	class uint8
	last  time.Time
	id    uint64 // the ending flow
	seq   int64  // order of logging, within one flow
	fn    func()
}

func newTurns(n int) *turns {
	t := &turns{workers: make([]progress, n)}
	for i := range t.workers {
		t.workers[i].cond.L = &t.workers[i].mu
	}
	return t
}

// enter waits for worker w's turn at (pos, phase) and takes the lock.
func (t *turns) enter(w int, pos int64, phase uint8, waits *int64) {
	need := pos // time-outs and the flush: the others finished what precedes pos
	if phase == phasePacket {
		need = pos + 1 // and the time-outs at pos, which precede its packet
	}
	for i := range t.workers {
		if i != w {
			t.workers[i].await(need, waits)
		}
	}
	t.mu.Lock()
	if len(t.pending) > 0 {
		// Changes logged at time-outs before this point; at a time-out,
		// those of earlier positions only (ties at one position: see
		// README "Offline on several cores").
		limit := pos
		if phase == phasePacket {
			limit = pos + 1
		}
		t.apply(limit)
	}
}

func (t *turns) leave() { t.mu.Unlock() }

// log records a change made while a flow ends (time-out or flush).
func (t *turns) log(c change) {
	t.mu.Lock()
	t.seq++
	c.seq = t.seq
	t.pending = append(t.pending, c)
	t.mu.Unlock()
}

// apply runs, in one table's order, the logged changes made before
// position limit (all of them for limit < 0); t.mu is held.
func (t *turns) apply(limit int64) {
	var due []change
	keep := t.pending[:0]
	for _, c := range t.pending {
		if limit < 0 || c.pos < limit {
			due = append(due, c)
		} else {
			keep = append(keep, c)
		}
	}
	clear(t.pending[len(keep):])
	t.pending = keep
	sort.Slice(due, func(i, j int) bool { return changeBefore(&due[i], &due[j]) })
	for _, c := range due {
		c.fn()
	}
}

// changeBefore is one table's order of flows ended at one position (see
// before and flushedBefore); a flow's own changes keep their order.
func changeBefore(x, y *change) bool {
	if x.pos != y.pos {
		return x.pos < y.pos
	}
	if x.phase != y.phase {
		return x.phase < y.phase
	}
	if x.id != y.id {
		a := flushedFlow{x.last, x.class, x.id}
		b := flushedFlow{y.last, y.class, y.id}
		if x.phase == phaseFlush {
			return flushedBefore(a, b)
		}
		if x.class != y.class {
			return x.class < y.class
		}
		return flushedBefore(a, b)
	}
	return x.seq < y.seq
}
