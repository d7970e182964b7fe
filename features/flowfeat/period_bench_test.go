package flowfeat

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// periodCall is one dominantPeriod call as the tracker made it: the bins
// of one direction at a row, and the row's end.
type periodCall struct {
	bins periodBins
	end  int64
}

var (
	sharedCallsOnce sync.Once
	sharedCalls     []periodCall
	sharedCallsErr  error
)

// callRecorder is a tracker observer that records, at every row, the
// period computations the row made (directions with enough arrivals).
type callRecorder struct {
	trackerObserver
	calls *[]periodCall
}

func (o *callRecorder) row(r *Row) {
	a := &r.Flow.Data.(*State).cum
	for _, d := range []*dirAcc{&a.down, &a.up} {
		if d.dataPkts >= minPeriodPkts {
			*o.calls = append(*o.calls, periodCall{d.more.bins, r.End.UnixNano()})
		}
	}
}

// sharedPeriodCalls replays every capture of the shared datasets through
// a tracker with ModelCheckpoints (what detect scores) and end rows, in
// capture order, and returns the period computations made.
func sharedPeriodCalls(b *testing.B) []periodCall {
	root := shareddata.Require(b)
	sharedCallsOnce.Do(func() {
		sharedCallsErr = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := strings.TrimSuffix(d.Name(), ".gz")
			if d.IsDir() || !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")) {
				return nil
			}
			r, err := capture.Open(p)
			if errors.Is(err, capture.ErrNotCapture) {
				return nil
			} else if err != nil {
				return err
			}
			defer r.Close()
			o := &callRecorder{calls: &sharedCalls}
			o.tr = NewTracker(TrackerConfig{Checkpoints: ModelCheckpoints()}, o.row)
			_, err = ingest.Run(context.Background(), r, flows.NewTable(flows.DefaultConfig(), o), ingest.Options{})
			return err
		})
	})
	if sharedCallsErr != nil {
		b.Fatal(sharedCallsErr)
	}
	if len(sharedCalls) == 0 {
		b.Skip("no period computations in the shared datasets")
	}
	return sharedCalls
}

// BenchmarkPeriodSharedRows is the periodicity features' cost per
// computation (one direction of one row) on the shared datasets' rows, in
// the order a tracker makes them: the gonum reference, realFFT alone
// (memo off) and realFFT with the tracker's memo (fresh each pass, so
// hits are repeats within one run over the captures only).
func BenchmarkPeriodSharedRows(b *testing.B) {
	calls := sharedPeriodCalls(b)
	report := func(b *testing.B) {
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(calls)), "ns/call")
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(len(calls)), "calls/pass")
	}
	b.Run("gonum-reference", func(b *testing.B) {
		var ref refScratch
		for b.Loop() {
			for i := range calls {
				calls[i].bins.refDominantPeriod(calls[i].end, &ref)
			}
		}
		report(b)
	})
	b.Run("realFFT", func(b *testing.B) {
		for b.Loop() {
			var sc periodScratch
			for i := range calls {
				c := &calls[i]
				if n := c.bins.seriesLen(c.end); n >= 6 {
					sc.periodLag(c.bins.c[:n])
				}
			}
		}
		report(b)
	})
	b.Run("realFFT+memo", func(b *testing.B) {
		var hits, total uint64
		for b.Loop() {
			sc := periodScratch{memo: newPeriodMemo()}
			for i := range calls {
				calls[i].bins.dominantPeriod(calls[i].end, &sc)
			}
			hits += sc.memo.hits
			total += sc.memo.hits + sc.memo.misses
		}
		report(b)
		b.ReportMetric(float64(hits)/float64(total), "memo-hits/call")
	})
}

// BenchmarkRealFFT512 is one forward and one backward transform of the
// length most long rows use (n of 129–256 bins pads to 512): gonum's and
// realFFT.
func BenchmarkRealFFT512(b *testing.B) {
	const m = 512
	seq := make([]float64, m)
	for i := range m / 2 {
		seq[i] = float64(i%7) - 3
	}
	b.Run("gonum", func(b *testing.B) {
		fft := fourier.NewFFT(m)
		coeff := make([]complex128, m/2+1)
		out := make([]float64, m)
		for b.Loop() {
			fft.Coefficients(coeff, seq)
			fft.Sequence(out, coeff)
		}
	})
	b.Run("realFFT", func(b *testing.B) {
		fft := newRealFFT(m)
		buf := make([]float64, m)
		for b.Loop() {
			copy(buf, seq)
			fft.forward(buf)
			fft.backward(buf)
		}
	})
}
