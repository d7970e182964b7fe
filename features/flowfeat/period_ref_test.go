package flowfeat

// The periodicity feature as it was before its FFT was replaced by
// realFFT (period.go at 58bc50b, gonum's dsp/fourier): the reference the
// identity tests compare the new code with, bit for bit. The shipped model
// was trained on these values.

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

func (b *periodBins) refDominantPeriod(end int64, sc *refScratch) (period, strength float64) {
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

// refScratch is periodScratch as it was, with gonum's FFT plans.
type refScratch struct {
	x, pre [periodBinCount + 1]float64
	seq    []float64
	coeff  []complex128
	ffts   map[int]*fourier.FFT
}

// lagged returns s[k] = Σ_i x_i·x_{i+k} for k in [0, len(x)).
func (sc *refScratch) lagged(x []float64) []float64 {
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
