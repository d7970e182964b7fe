package capture_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/minerwatch/minerwatch/features/capture"
)

// countRecords reads r to its end.
func countRecords(t *testing.T, r *capture.Reader) int {
	t.Helper()
	var rec capture.Record
	n := 0
	for {
		err := r.Next(&rec)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// "-" reads standard input, as tcpdump -r - does (zcat x.pcap.gz |
// minerwatch flows -r -): the same records as the file, a size that is
// unknown, and standard input left open by Close. Not parallel: it swaps
// os.Stdin.
func TestDashReadsStandardInput(t *testing.T) {
	const sample = "../../datasets/samples/xmrig-plain-3333.pcap"
	direct, err := capture.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	want := countRecords(t, direct)
	direct.Close()

	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()

	r, err := capture.Open("-")
	if err != nil {
		t.Fatal(err)
	}
	if got := countRecords(t, r); got != want || want == 0 {
		t.Errorf("%d records from standard input, %d from the file", got, want)
	}
	if p := r.Progress(); p.Size != 0 || p.Read == 0 {
		t.Errorf("progress %+v: want bytes read and no known size", p)
	}
	r.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
	if _, err := capture.Open("-", "-"); err == nil {
		t.Error("standard input twice was accepted")
	}
}
