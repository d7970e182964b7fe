package lru

import (
	"math/rand"
	"testing"
)

func TestFullMapEvictsLeastRecentlyUsed(t *testing.T) {
	m := New[string, int](3)
	m.Put("a", 1)
	m.Put("b", 2)
	m.Put("c", 3)
	m.Get("a") // a is now the most recent: b is the oldest
	var gone []string
	m.OnEvict = func(k string, _ int) { gone = append(gone, k) }
	if !m.Put("d", 4) {
		t.Fatal("Put into a full map did not report an eviction")
	}
	if _, ok := m.Peek("b"); ok || len(gone) != 1 || gone[0] != "b" {
		t.Fatalf("evicted %v, want [b]", gone)
	}
	if m.Len() != 3 || m.Evicted() != 1 {
		t.Fatalf("len %d evicted %d, want 3 and 1", m.Len(), m.Evicted())
	}
	var order []string
	m.Each(func(k string, _ int) bool { order = append(order, k); return true })
	if got := order[0] + order[1] + order[2]; got != "dac" {
		t.Errorf("recency order %q, want dac", got)
	}
}

func TestUpdatingAKeyDoesNotEvict(t *testing.T) {
	m := New[int, int](2)
	m.Put(1, 1)
	m.Put(2, 2)
	if m.Put(1, 10) {
		t.Fatal("updating an existing key evicted")
	}
	if v, _ := m.Get(1); v != 10 || m.Evicted() != 0 {
		t.Errorf("value %d evicted %d, want 10 and 0", v, m.Evicted())
	}
}

// The map must agree with a plain map plus a recency list under random
// Put/Get/Delete, including deletes that move the last slot.
func TestRandomOperationsMatchAReferenceModel(t *testing.T) {
	const capacity = 16
	m := New[int, int](capacity)
	var order []int // most recent first
	ref := map[int]int{}
	touch := func(k int) {
		for i, x := range order {
			if x == k {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		order = append([]int{k}, order...)
	}
	rng := rand.New(rand.NewSource(1))
	for step := 0; step < 20000; step++ {
		k := rng.Intn(40)
		switch rng.Intn(3) {
		case 0:
			if _, ok := ref[k]; !ok && len(ref) == capacity {
				old := order[len(order)-1]
				order = order[:len(order)-1]
				delete(ref, old)
			}
			ref[k] = step
			touch(k)
			m.Put(k, step)
		case 1:
			v, ok := m.Get(k)
			rv, rok := ref[k]
			if ok != rok || v != rv {
				t.Fatalf("step %d: Get(%d) = %d,%v want %d,%v", step, k, v, ok, rv, rok)
			}
			if ok {
				touch(k)
			}
		case 2:
			_, rok := ref[k]
			if m.Delete(k) != rok {
				t.Fatalf("step %d: Delete(%d) disagrees", step, k)
			}
			if rok {
				delete(ref, k)
				for i, x := range order {
					if x == k {
						order = append(order[:i], order[i+1:]...)
						break
					}
				}
			}
		}
		if m.Len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, m.Len(), len(ref))
		}
	}
	var got []int
	m.Each(func(k, _ int) bool { got = append(got, k); return true })
	if len(got) != len(order) {
		t.Fatalf("Each visited %d, want %d", len(got), len(order))
	}
	for i := range got {
		if got[i] != order[i] {
			t.Fatalf("recency order %v, want %v", got, order)
		}
	}
	if k, _, ok := m.Oldest(); len(order) > 0 && (!ok || k != order[len(order)-1]) {
		t.Errorf("Oldest = %d, want %d", k, order[len(order)-1])
	}
}
