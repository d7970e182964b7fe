package flowfeat

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
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

func newPeriodBins(origin int64) *periodBins {
	return &periodBins{origin: origin, width: periodBinWidth}
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
	n := b.used
	if end > b.origin {
		if want := int((end - b.origin + b.width - 1) / b.width); want > n {
			n = want
		}
	}
	if n > periodBinCount {
		n = periodBinCount
	}
	if n < 6 {
		return nan, 0
	}
	x := sc.x[:n]
	for i := 0; i < n; i++ {
		v := 2 * float64(b.c[i])
		if i > 0 {
			v += float64(b.c[i-1])
		}
		if i+1 < n {
			v += float64(b.c[i+1])
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
		return nan, 0
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
		return nan, 0
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
	return float64(bestLag) * float64(b.width) / 1e9, best
}

// periodScratch holds the buffers and FFT plans of dominantPeriod, reused
// across calls (one per Tracker; not safe for concurrent use).
type periodScratch struct {
	x, pre [periodBinCount + 1]float64
	seq    []float64
	coeff  []complex128
	ffts   map[int]*fourier.FFT
}

// lagged returns s[k] = Σ_i x_i·x_{i+k} for k in [0, len(x)).
func (sc *periodScratch) lagged(x []float64) []float64 {
	n := len(x)
	m := 1
	for m < 2*n {
		m <<= 1
	}
	if sc.ffts == nil {
		sc.ffts = map[int]*fourier.FFT{}
	}
	fft := sc.ffts[m]
	if fft == nil {
		fft = fourier.NewFFT(m)
		sc.ffts[m] = fft
	}
	if cap(sc.seq) < m {
		sc.seq = make([]float64, m)
		sc.coeff = make([]complex128, m/2+1)
	}
	seq := sc.seq[:m]
	copy(seq, x)
	clear(seq[n:])
	coeff := fft.Coefficients(sc.coeff[:m/2+1], seq)
	for i, c := range coeff {
		coeff[i] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
	}
	out := fft.Sequence(seq, coeff)
	inv := 1 / float64(m) // gonum's transforms are unnormalised
	for i := range out[:n] {
		out[i] *= inv
	}
	return out[:n]
}
