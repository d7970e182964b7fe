package freelist

import "testing"

func TestListRecyclesUpToItsLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		put   int
		want  int
	}{
		{"zero limit takes the default", 0, DefaultLimit + 10, DefaultLimit},
		{"a set limit", 3, 5, 3},
		{"under the limit", 8, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := List[int]{Limit: tt.limit}
			for i := range tt.put {
				v := i
				l.Put(&v)
			}
			if l.Len() != tt.want {
				t.Fatalf("Len = %d after %d puts, want %d", l.Len(), tt.put, tt.want)
			}
		})
	}
}

func TestGetReturnsWhatWasPutLastThenNewItems(t *testing.T) {
	var l List[int]
	a, b := new(int), new(int)
	l.Put(a)
	l.Put(b)
	if got := l.Get(); got != b {
		t.Fatal("Get did not return the last item put")
	}
	if got := l.Get(); got != a {
		t.Fatal("Get did not return the first item put second")
	}
	if got := l.Get(); got == a || got == b || got == nil {
		t.Fatal("an empty list must return a new item")
	}
}
