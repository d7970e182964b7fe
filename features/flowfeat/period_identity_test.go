package flowfeat

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// fusedMulAdd is x·y + z as the compiler builds it: one rounding on
// builds that fuse multiply-adds (GOAMD64=v3, arm64), two elsewhere.
//
//go:noinline
func fusedMulAdd(x, y, z float64) float64 { return x*y + z }

// skipIfFused skips a comparison with gonum on builds that fuse: gonum's
// transform rounds differently there (see realFFT), while realFFT keeps
// the unfused products of a default amd64 build.
func skipIfFused(t *testing.T) {
	t.Helper()
	// (1+2⁻³⁰)(1−2⁻³⁰) = 1 − 2⁻⁶⁰: rounded to 1 before the addition of
	// −1 unless fused.
	if fusedMulAdd(1+0x1p-30, 1-0x1p-30, -1) != 0 {
		t.Skip("this build fuses multiply-adds: gonum's FFT rounds differently here")
	}
}

// sameBits compares two floats bit for bit (NaN payloads and signed
// zeros included).
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// realFFT's forward and backward transforms give gonum's coefficients and
// sequences bit for bit, at every length dominantPeriod uses, on the kind
// of input it sees (a zero-padded centred series; its power spectrum) and
// on arbitrary values.
func TestRealFFTMatchesGonum(t *testing.T) {
	skipIfFused(t)
	rng := rand.New(rand.NewSource(13))
	for m := 4; m <= 2*periodBinCount; m *= 2 {
		ref := fourier.NewFFT(m)
		mine := newRealFFT(m)
		for trial := range 50 {
			seq := make([]float64, m)
			fill := m
			if trial%2 == 0 {
				fill = m/2 - trial%(m/4) // zero-padded, as lagged pads
			}
			for i := range fill {
				switch trial % 3 {
				case 0:
					seq[i] = rng.NormFloat64()
				case 1:
					seq[i] = float64(rng.Intn(4*256)) - 300.5 // smoothed counts minus a mean
				default:
					seq[i] = math.Ldexp(rng.Float64(), rng.Intn(40)-20)
				}
			}
			coeff := ref.Coefficients(nil, seq)
			got := append([]float64(nil), seq...)
			mine.forward(got)
			packed := make([]float64, m)
			packed[0], packed[m-1] = real(coeff[0]), real(coeff[m/2])
			for i := 1; i < m/2; i++ {
				packed[2*i-1], packed[2*i] = real(coeff[i]), imag(coeff[i])
			}
			for i := range got {
				if !sameBits(got[i], packed[i]) {
					t.Fatalf("m=%d trial %d: forward[%d] = %v, gonum %v", m, trial, i, got[i], packed[i])
				}
			}
			// Backward, on the spectrum itself (complex values) and on
			// its power (what lagged transforms back).
			for _, power := range []bool{false, true} {
				in := append([]complex128(nil), coeff...)
				if power {
					for i, c := range in {
						in[i] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
					}
				}
				want := ref.Sequence(nil, in)
				back := make([]float64, m)
				back[0], back[m-1] = real(in[0]), real(in[m/2])
				for i := 1; i < m/2; i++ {
					back[2*i-1], back[2*i] = real(in[i]), imag(in[i])
				}
				mine.backward(back)
				for i := range back {
					if !sameBits(back[i], want[i]) {
						t.Fatalf("m=%d trial %d power=%v: backward[%d] = %v, gonum %v", m, trial, power, i, back[i], want[i])
					}
				}
			}
		}
	}
}

// checkPeriods compares both directions' period features of v, computed
// from a, with the reference implementation on the same bins.
func checkPeriods(t *testing.T, what string, a *Accumulator, end int64, v *Vector, ref *refScratch) bool {
	t.Helper()
	f := v[offMW51+36 : offMW51+NumMW51]
	ok := true
	for _, d := range []struct {
		name string
		acc  *dirAcc
		at   int
	}{{"down", &a.down, 10}, {"up", &a.up, 12}} {
		wantP, wantS := nan, nan
		if d.acc.dataPkts >= minPeriodPkts {
			wantP, wantS = d.acc.more.bins.refDominantPeriod(end, ref)
		}
		if !sameBits(f[d.at], wantP) || !sameBits(f[d.at+1], wantS) {
			t.Errorf("%s: %s_period, strength = %v, %v; reference %v, %v", what, d.name, f[d.at], f[d.at+1], wantP, wantS)
			ok = false
		}
	}
	return ok
}

// Hostile and ordinary arrival series, every length from the shortest
// scored (6 bins) to the full 256: the new code gives the reference's
// period and strength bit for bit, computed and from the memo.
func TestDominantPeriodMatchesReference(t *testing.T) {
	skipIfFused(t)
	rng := rand.New(rand.NewSource(7))
	sc := periodScratch{memo: newPeriodMemo()}
	var ref refScratch
	shapes := []struct {
		name string
		fill func(c []uint8)
	}{
		{"empty", func(c []uint8) {}},
		{"one bin", func(c []uint8) { c[rng.Intn(len(c))] = 1 }},
		{"saturated", func(c []uint8) {
			for i := range c {
				c[i] = math.MaxUint8
			}
		}},
		{"sparse random", func(c []uint8) {
			for i := range c {
				if rng.Intn(8) == 0 {
					c[i] = uint8(1 + rng.Intn(3))
				}
			}
		}},
		{"dense random", func(c []uint8) {
			for i := range c {
				c[i] = uint8(rng.Intn(256))
			}
		}},
		{"periodic with jitter", func(c []uint8) {
			p := 2 + rng.Intn(len(c)/3+1)
			for i := rng.Intn(p); i < len(c); i += p {
				j := i + rng.Intn(3) - 1
				if j >= 0 && j < len(c) {
					c[j]++
				}
			}
		}},
		{"bursts", func(c []uint8) {
			p := 3 + rng.Intn(len(c)/2)
			for i := 0; i < len(c); i += p {
				for j := i; j < i+3 && j < len(c); j++ {
					c[j] = uint8(10 + rng.Intn(200))
				}
			}
		}},
	}
	peaks := 0
	// Two rounds of random shapes: far more series than the memo keeps.
	for round := range 2 {
		for n := 6; n <= periodBinCount; n++ {
			for _, s := range shapes {
				b := newPeriodBins(0)
				s.fill(b.c[:n])
				b.used = n
				end := int64(n) * b.width
				wantP, wantS := b.refDominantPeriod(end, &ref)
				for pass := range 2 { // computed, then memoised
					p, st := b.dominantPeriod(end, &sc)
					if !sameBits(p, wantP) || !sameBits(st, wantS) {
						t.Fatalf("round %d, %s, n=%d, pass %d: %v, %v; reference %v, %v", round, s.name, n, pass, p, st, wantP, wantS)
					}
				}
				if !math.IsNaN(wantP) {
					peaks++
				}
			}
		}
	}
	if peaks < 100 {
		t.Fatalf("only %d series had a period: the comparison proved little", peaks)
	}
	if m := sc.memo; m.hits == 0 || m.evictions == 0 {
		t.Fatalf("memo hits %d, evictions %d: the memo paths went untested", m.hits, m.evictions)
	}
}

// The memo is keyed by counts only: the same counts at another bin width
// (a flow whose bins merged) get the period in that width's seconds.
func TestMemoisedPeriodScalesWithBinWidth(t *testing.T) {
	skipIfFused(t)
	sc := periodScratch{memo: newPeriodMemo()}
	var ref refScratch
	narrow, wide := newPeriodBins(0), newPeriodBins(0)
	wide.width *= 4
	for i := 0; i < 120; i += 10 { // an arrival every 10 bins
		narrow.c[i], wide.c[i] = 1, 1
	}
	narrow.used, wide.used = 120, 120
	for _, b := range []*periodBins{narrow, wide} {
		end := 120 * b.width
		p, s := b.dominantPeriod(end, &sc)
		wantP, wantS := b.refDominantPeriod(end, &ref)
		if !sameBits(p, wantP) || !sameBits(s, wantS) {
			t.Fatalf("width %d ns: %v, %v; reference %v, %v", b.width, p, s, wantP, wantS)
		}
		// 10 bins of the width, by construction.
		if want := 10 * float64(b.width) / 1e9; p != want {
			t.Fatalf("width %d ns: period %v s, want %v", b.width, p, want)
		}
	}
	if sc.memo.hits != 1 {
		t.Fatalf("memo hits %d, want 1 (the wide series repeats the narrow one's counts)", sc.memo.hits)
	}
}

// identityObserver runs a tracker and checks every row it emits against
// the reference periodicity on the row's own accumulator.
type identityObserver struct {
	trackerObserver
	t      *testing.T
	ref    refScratch
	rows   int
	failed int
}

// trackerObserver drives a tracker from a flow table, one State per
// flow, released at its end: the period tests' observers embed it.
type trackerObserver struct{ tr *Tracker }

func (o *trackerObserver) FlowStarted(f *flows.Flow) { f.Data = o.tr.Start(f) }
func (o *trackerObserver) Packet(f *flows.Flow, p *packet.Packet, dir packet.Direction) {
	o.tr.Packet(f.Data.(*State), f, p, dir)
}
func (o *trackerObserver) ActiveRecord(*flows.Record) {}
func (o *trackerObserver) FlowEnded(f *flows.Flow, _ flows.EndReason) {
	s := f.Data.(*State)
	o.tr.End(s, f)
	o.tr.Release(s)
}

func (o *identityObserver) row(r *Row) {
	s := r.Flow.Data.(*State)
	a := &s.cum
	if r.Kind == KindWindow {
		a = &s.win.acc
	}
	o.rows++
	if o.failed < 10 && !checkPeriods(o.t, r.Kind, a, r.End.UnixNano(), r.Values, &o.ref) {
		o.failed++
	}
}

// Every capture of the shared datasets, with the default checkpoints,
// 10 s windows and end rows: each row's down/up period and strength are
// the reference implementation's, bit for bit (the shipped model was
// trained on them).
func TestPeriodFeaturesOnSharedCapturesAreBitIdentical(t *testing.T) {
	skipIfFused(t)
	root := shareddata.Require(t)
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".cap")) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := TrackerConfig{Checkpoints: DefaultCheckpoints(), Window: 10 * time.Second}
	rows, withPeriod := 0, 0
	for _, p := range paths {
		r, err := capture.Open(p)
		if err != nil {
			if errors.Is(err, capture.ErrNotCapture) {
				continue
			}
			t.Fatalf("%s: %v", p, err)
		}
		o := &identityObserver{t: t}
		o.tr = NewTracker(cfg, func(row *Row) {
			o.row(row)
			f := row.Values[offMW51+36:]
			if !math.IsNaN(f[10]) || !math.IsNaN(f[12]) {
				withPeriod++
			}
		})
		_, err = ingest.Run(context.Background(), r, flows.NewTable(flows.DefaultConfig(), o), ingest.Options{})
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		rows += o.rows
		if o.failed > 0 {
			t.Fatalf("%s: period features differ from the reference", p)
		}
	}
	t.Logf("%d captures, %d rows, %d with a period", len(paths), rows, withPeriod)
	if withPeriod < 1000 {
		t.Fatalf("only %d rows had a period: the comparison proved little", withPeriod)
	}
}

// newPeriodBins returns empty bins whose bin 0 starts at origin.
func newPeriodBins(origin int64) *periodBins {
	b := &periodBins{}
	b.init(origin)
	return b
}
