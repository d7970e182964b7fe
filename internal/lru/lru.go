package lru

// Map is a map of at most Cap entries; putting a new key into a full map
// evicts the least recently used entry.
type Map[K comparable, V any] struct {
	cap     int
	index   map[K]int32
	ents    []entry[K, V]
	head    int32 // most recently used; -1 when empty
	tail    int32 // least recently used
	evicted int64
	// OnEvict, if set, is called with each evicted entry.
	OnEvict func(K, V)
}

type entry[K comparable, V any] struct {
	key        K
	val        V
	prev, next int32
}

// New returns an empty map holding at most capacity entries (at least 1).
func New[K comparable, V any](capacity int) *Map[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	if capacity > 1<<30 {
		capacity = 1 << 30 // indexes are int32
	}
	return &Map[K, V]{cap: capacity, index: map[K]int32{}, head: -1, tail: -1}
}

// Cap returns the most entries the map holds.
func (m *Map[K, V]) Cap() int { return m.cap }

// Len returns the number of entries.
func (m *Map[K, V]) Len() int { return len(m.index) }

// Evicted returns how many entries were evicted to make room so far.
func (m *Map[K, V]) Evicted() int64 { return m.evicted }

// Get returns the value of k and marks it most recently used.
func (m *Map[K, V]) Get(k K) (V, bool) {
	i, ok := m.index[k]
	if !ok {
		var zero V
		return zero, false
	}
	m.moveToFront(i)
	return m.ents[i].val, true
}

// Peek returns the value of k without touching its recency.
func (m *Map[K, V]) Peek(k K) (V, bool) {
	i, ok := m.index[k]
	if !ok {
		var zero V
		return zero, false
	}
	return m.ents[i].val, true
}

// Put sets k to v and marks it most recently used, evicting the least
// recently used entry when k is new and the map is full. It reports
// whether an entry was evicted.
func (m *Map[K, V]) Put(k K, v V) (evicted bool) {
	if i, ok := m.index[k]; ok {
		m.ents[i].val = v
		m.moveToFront(i)
		return false
	}
	var i int32
	if len(m.ents) < m.cap {
		i = int32(len(m.ents))
		m.ents = append(m.ents, entry[K, V]{})
	} else {
		// Reuse the least recently used slot.
		i = m.tail
		old := m.ents[i]
		m.unlink(i)
		delete(m.index, old.key)
		m.evicted++
		evicted = true
		if m.OnEvict != nil {
			m.OnEvict(old.key, old.val)
		}
	}
	m.ents[i] = entry[K, V]{key: k, val: v, prev: -1, next: -1}
	m.index[k] = i
	m.pushFront(i)
	return evicted
}

// Delete removes k, reporting whether it was there. The freed slot is
// filled from the end of the slice, so the map stays dense.
func (m *Map[K, V]) Delete(k K) bool {
	i, ok := m.index[k]
	if !ok {
		return false
	}
	m.unlink(i)
	delete(m.index, k)
	last := int32(len(m.ents) - 1)
	if i != last {
		// Move the last slot into i and fix its neighbours' links.
		m.ents[i] = m.ents[last]
		e := &m.ents[i]
		if e.prev >= 0 {
			m.ents[e.prev].next = i
		} else {
			m.head = i
		}
		if e.next >= 0 {
			m.ents[e.next].prev = i
		} else {
			m.tail = i
		}
		m.index[e.key] = i
	}
	var zero entry[K, V]
	m.ents[last] = zero
	m.ents = m.ents[:last]
	return true
}

// Each calls fn for every entry, most recently used first, until fn
// returns false. fn must not modify the map.
func (m *Map[K, V]) Each(fn func(K, V) bool) {
	for i := m.head; i >= 0; i = m.ents[i].next {
		if !fn(m.ents[i].key, m.ents[i].val) {
			return
		}
	}
}

// Oldest returns the least recently used entry.
func (m *Map[K, V]) Oldest() (K, V, bool) {
	if m.tail < 0 {
		var k K
		var v V
		return k, v, false
	}
	e := &m.ents[m.tail]
	return e.key, e.val, true
}

func (m *Map[K, V]) unlink(i int32) {
	e := &m.ents[i]
	if e.prev >= 0 {
		m.ents[e.prev].next = e.next
	} else {
		m.head = e.next
	}
	if e.next >= 0 {
		m.ents[e.next].prev = e.prev
	} else {
		m.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (m *Map[K, V]) pushFront(i int32) {
	e := &m.ents[i]
	e.prev, e.next = -1, m.head
	if m.head >= 0 {
		m.ents[m.head].prev = i
	} else {
		m.tail = i
	}
	m.head = i
}

func (m *Map[K, V]) moveToFront(i int32) {
	if m.head == i {
		return
	}
	m.unlink(i)
	m.pushFront(i)
}
