package flowfeat

import (
	"bytes"
	"hash/maphash"
	"math"
	"math/bits"
)

// periodBins counts data-packet arrivals of one direction in a bounded
// series of time bins. When the series would outgrow its bins, adjacent
// pairs merge and the bin width doubles, so memory stays fixed however long
// the flow lives (resolution degrades gracefully instead).
type periodBins struct {
	origin int64 // ns, start of bin 0
	width  int64 // ns
	used   int
	c      [periodBinCount]uint8
}

const (
	periodBinCount = 256
	// A half-second bin resolves the periods that matter for mining (share
	// submits every 10–60 s, keepalives at 60 s, jobs at ~120 s) while a
	// 30 s checkpoint still gets 60 bins.
	periodBinWidth = int64(500e6)
	// minPeriodPkts is how many arrivals a direction needs before its
	// period is computed; fewer cannot show a repetition.
	minPeriodPkts = 4
	// harmonicRatio: a shorter lag whose peak reaches this share of the
	// best peak is the fundamental. Jitter of a bin spreads a period's
	// peak, so a multiple (2P, 4P) can score a little higher by chance; a
	// lag with no events of its own (P/2 when the period is P) scores near
	// zero, so 0.6 separates the two.
	harmonicRatio = 0.6
)

// init readies zeroed bins whose bin 0 starts at origin.
func (b *periodBins) init(origin int64) {
	b.origin, b.width = origin, periodBinWidth
}

func (b *periodBins) add(t int64) {
	if t < b.origin {
		t = b.origin
	}
	idx := (t - b.origin) / b.width
	for idx >= periodBinCount {
		b.halve()
		idx = (t - b.origin) / b.width
	}
	if b.c[idx] < math.MaxUint8 {
		b.c[idx]++
	}
	if int(idx)+1 > b.used {
		b.used = int(idx) + 1
	}
}

func (b *periodBins) halve() {
	for i := 0; i < periodBinCount/2; i++ {
		s := int(b.c[2*i]) + int(b.c[2*i+1])
		if s > math.MaxUint8 {
			s = math.MaxUint8
		}
		b.c[i] = uint8(s)
	}
	for i := periodBinCount / 2; i < periodBinCount; i++ {
		b.c[i] = 0
	}
	b.width *= 2
	b.used = (b.used + 1) / 2
}

// dominantPeriod returns the dominant period (s) and its strength in [0,1]
// of the arrivals up to time end (ns). The series is smoothed with a
// [1 2 1] kernel (so jitter of one bin does not break a period), then the
// autocorrelation r(k) — normalised over the overlapping part, so long lags
// are not penalised — is searched after its first local minimum, among lags
// up to half the series (two repetitions at least). Of the local maxima, the
// shortest lag within harmonicRatio of the best is the period, so a harmonic (2P, 3P)
// does not win over its fundamental. Strength is r at that lag; no peak
// gives period NaN and strength 0.
func (b *periodBins) dominantPeriod(end int64, sc *periodScratch) (period, strength float64) {
	n := b.seriesLen(end)
	if n < 6 {
		return nan, 0
	}
	// The result depends on the first n counts only (and the bin width,
	// which scales it): a flow re-scored with no arrival since, or another
	// flow with the same arrival pattern, gets the memoised lag.
	key := b.c[:n]
	r, ok := sc.memo.lookup(key)
	if !ok {
		r = sc.periodLag(key)
		sc.memo.store(key, r)
	}
	if r.lag == 0 {
		return nan, 0
	}
	return float64(r.lag) * float64(b.width) / 1e9, r.strength
}

// seriesLen is how many bins the series up to end (ns) spans: the bins
// used, and the empty ones up to end, at most periodBinCount.
func (b *periodBins) seriesLen(end int64) int {
	n := b.used
	if end > b.origin {
		if want := int((end - b.origin + b.width - 1) / b.width); want > n {
			n = want
		}
	}
	return min(n, periodBinCount)
}

// periodResult is dominantPeriod's answer in bins: lag 0 means no period.
type periodResult struct {
	lag      int
	strength float64
}

// periodMemo remembers dominantPeriod's answers by arrival series: a
// direct-mapped cache (a colliding series replaces the one in its slot),
// allocated once per Tracker, so a lookup or a store allocates nothing.
// Repeats are mostly a flow re-scored with no arrival in between, or
// flows with one arrival pattern (a handful of packets at the same
// offsets), so a small cache catches them.
type periodMemo struct {
	seed maphash.Seed
	e    [periodMemoSize]periodEntry
	// hits counts answers from the memo, misses computed ones, evictions
	// stores that replaced another series.
	hits, misses, evictions uint64
}

// periodMemoSize slots of 272 B: 272 KiB per Tracker.
const periodMemoSize = 1024

type periodEntry struct {
	n, lag   uint16 // n = 0: empty slot
	strength float64
	c        [periodBinCount]uint8
}

func newPeriodMemo() *periodMemo { return &periodMemo{seed: maphash.MakeSeed()} }

func (m *periodMemo) slot(c []uint8) *periodEntry {
	return &m.e[maphash.Bytes(m.seed, c)%periodMemoSize]
}

// lookup returns the remembered answer for the series c; a nil memo
// remembers nothing.
func (m *periodMemo) lookup(c []uint8) (periodResult, bool) {
	if m == nil {
		return periodResult{}, false
	}
	e := m.slot(c)
	if int(e.n) != len(c) || !bytes.Equal(e.c[:len(c)], c) {
		m.misses++
		return periodResult{}, false
	}
	m.hits++
	return periodResult{int(e.lag), e.strength}, true
}

func (m *periodMemo) store(c []uint8, r periodResult) {
	if m == nil {
		return
	}
	e := m.slot(c)
	if e.n != 0 {
		m.evictions++
	}
	e.n, e.lag, e.strength = uint16(len(c)), uint16(r.lag), r.strength
	copy(e.c[:], c)
}

// periodLag is dominantPeriod on the counts c (one per bin).
func (sc *periodScratch) periodLag(c []uint8) periodResult {
	n := len(c)
	x := sc.x[:n]
	for i := 0; i < n; i++ {
		v := 2 * float64(c[i])
		if i > 0 {
			v += float64(c[i-1])
		}
		if i+1 < n {
			v += float64(c[i+1])
		}
		x[i] = v
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	for i := range x {
		x[i] -= mean
	}
	maxLag := n / 2
	if maxLag < 3 {
		return periodResult{}
	}
	// Σ x_i·x_{i+k} for every lag at once: the inverse FFT of the power
	// spectrum of the zero-padded series (O(n log n) instead of O(n²);
	// long flows are re-scored every 300 s for as long as they live).
	lagged := sc.lagged(x)
	// Σ x_i² over the two overlapping parts, from prefix sums.
	pre := sc.pre[:n+1]
	pre[0] = 0
	for i, v := range x {
		pre[i+1] = pre[i] + v*v
	}
	var acf [periodBinCount/2 + 2]float64
	for k := 1; k <= maxLag+1 && k < n; k++ {
		sxx, syy := pre[n-k], pre[n]-pre[k]
		if sxx <= 0 || syy <= 0 {
			continue
		}
		acf[k] = lagged[k] / math.Sqrt(sxx*syy)
	}
	// Skip the initial decay (the smoothing and bursts make small lags
	// correlated): start after the first local minimum.
	k := 1
	for k < maxLag && acf[k+1] < acf[k] {
		k++
	}
	best, bestLag := 0.0, 0
	type peak struct {
		lag int
		r   float64
	}
	var peaks [periodBinCount / 2]peak
	np := 0
	for ; k <= maxLag; k++ {
		if acf[k] > 0 && acf[k] >= acf[k-1] && acf[k] >= acf[k+1] {
			peaks[np] = peak{k, acf[k]}
			np++
			if acf[k] > best {
				best, bestLag = acf[k], k
			}
		}
	}
	if bestLag == 0 {
		return periodResult{}
	}
	for _, p := range peaks[:np] {
		if p.r >= harmonicRatio*best {
			bestLag, best = p.lag, p.r
			break
		}
	}
	if best > 1 {
		best = 1
	}
	return periodResult{bestLag, best}
}

// periodScratch holds the buffers, FFT plans and memo of dominantPeriod,
// reused across calls (one per Tracker; not safe for concurrent use).
type periodScratch struct {
	x, pre [periodBinCount + 1]float64
	seq    [2 * periodBinCount]float64
	ffts   [11]*realFFT // by log2 of the length
	memo   *periodMemo  // nil: no memoisation (a one-off Snapshot)
}

// lagged returns s[k] = Σ_i x_i·x_{i+k} for k in [0, len(x)), len(x) ≤
// periodBinCount, exactly as gonum's FFT computed it: the inverse transform
// of the power spectrum of x zero-padded to a power of two ≥ 2·len(x).
func (sc *periodScratch) lagged(x []float64) []float64 {
	n := len(x)
	m := 4
	for m < 2*n {
		m <<= 1
	}
	lg := bits.TrailingZeros(uint(m))
	fft := sc.ffts[lg]
	if fft == nil {
		fft = newRealFFT(m)
		sc.ffts[lg] = fft
	}
	seq := sc.seq[:m]
	copy(seq, x)
	clear(seq[n:])
	fft.forward(seq)
	// seq is FFTPACK's packed spectrum r0, re1, im1, …, re(m/2); the
	// power spectrum goes back in the same layout (gonum's Coefficients
	// and Sequence unpack and repack it; |c|² = re² + im², with im = +0
	// at both ends, and the power's imaginary parts +0).
	seq[0] *= seq[0]
	for i := 1; i < m-1; i += 2 {
		re, im := seq[i], seq[i+1]
		seq[i] = float64(re*re) + float64(im*im)
		seq[i+1] = 0
	}
	seq[m-1] *= seq[m-1]
	fft.backward(seq)
	inv := 1 / float64(m) // the transforms are unnormalised
	out := seq[:n]
	for i := range out {
		out[i] *= inv
	}
	return out
}
