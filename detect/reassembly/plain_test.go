package reassembly

import "testing"

type nopSink struct{}

func (nopSink) Data([]byte)  {}
func (nopSink) Gap(n uint32) {}

// TestPlainStreamCountsOnlyDeliveredAndPadding: while Plain, Stats is
// Delivered and Padding alone (what a caller summing streams then reads);
// a held segment makes the stream no longer plain.
func TestPlainStreamCountsOnlyDeliveredAndPadding(t *testing.T) {
	var s Stream
	s.Init(NewLimits(DefaultConfig(), nil))
	s.Add(100, true, false, nil, nopSink{})
	s.Add(101, false, false, []byte("{\"id\": 1,\r\n \"x\":\t2}\n"), nopSink{})
	if !s.Plain() {
		t.Fatal("an in-order stream under its cap is not plain")
	}
	st := s.Stats()
	if want := (Stats{Delivered: s.Delivered(), Padding: s.Padding()}); st != want || st.Padding != 6 {
		t.Fatalf("plain stream's Stats = %+v, want %+v with 6 padding bytes", st, want)
	}
	s.Add(200, false, false, []byte("later"), nopSink{})
	if s.Plain() {
		t.Fatal("a stream holding a segment out of order is plain")
	}
}
