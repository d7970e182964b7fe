package flowfeat

import "math"

// realFFT is gonum's dsp/fourier real FFT (a Go translation of FFTPACK's
// rfftf/rfftb, gonum v0.17.0, BSD licence, © The Gonum Authors) cut down to
// the power-of-two lengths dominantPeriod uses, with its Fortran-style
// array accessors and complex128 helpers written out as plain indexing.
//
// Why a copy: the shipped model was trained on period features computed by
// gonum, so every output bit must stay; the copy performs the same
// floating-point operations in the same order (each complex product and
// conjugate spelled as the compiler lowers it: re = a·c − b·d,
// im = a·d + b·c, with the same operand signs), and the float64()
// conversions around products forbid fused multiply-adds, which gonum's
// code does not get on default amd64 builds either. TestRealFFTMatchesGonum
// checks every length bit for bit. Builds that fuse (GOAMD64=v3, arm64)
// give gonum other bits — its complex products fuse, and math.Sin and
// math.Cos round its twiddles differently — so there the tests skip, and
// the period features differ in the last bits from a default amd64 build,
// as they already did with gonum. What it saves is gonum's per-access index arithmetic,
// bounds checks and complex temporaries: the periodicity features were
// about 44 % of `detect -r` CPU.
type realFFT struct {
	n    int
	fac  []int     // radix of each stage, in FFTPACK's order (a 2 first)
	wa   []float64 // twiddle factors, as rffti1 lays them out
	work []float64 // the other half of each stage's ping-pong
}

// newRealFFT plans a transform of length n, a power of two ≥ 4.
func newRealFFT(n int) *realFFT {
	if n < 4 || n&(n-1) != 0 {
		panic("flowfeat: realFFT length must be a power of two ≥ 4")
	}
	t := &realFFT{n: n, wa: make([]float64, n), work: make([]float64, n)}
	// rffti1's factorisation: 4s, then a 2, moved to the front.
	nl := n
	for nl%4 == 0 {
		t.fac = append(t.fac, 4)
		nl /= 4
	}
	if nl == 2 {
		t.fac = append([]int{2}, t.fac...)
	}
	// rffti1's twiddles, the same expressions.
	argh := 2 * math.Pi / float64(n)
	is, l1 := 0, 1
	for k1 := 0; k1 < len(t.fac)-1; k1++ {
		ip := t.fac[k1]
		ld := 0
		l2 := l1 * ip
		ido := n / l2
		for j := 0; j < ip-1; j++ {
			ld += l1
			i := is
			fi := 0.0
			argld := float64(ld) * argh
			for ii := 2; ii < ido; ii += 2 {
				fi++
				arg := fi * argld
				t.wa[i] = math.Cos(arg)
				t.wa[i+1] = math.Sin(arg)
				i += 2
			}
			is += ido
		}
		l1 = l2
	}
	return t
}

// forward is Rfftf: r (length n) becomes FFTPACK's packed spectrum
// r0, re1, im1, …, re(n/2).
func (t *realFFT) forward(r []float64) {
	n := t.n
	c, ch := r[:n], t.work[:n]
	nf := len(t.fac)
	na := true
	l2 := n
	iw := n - 1
	for k1 := 1; k1 <= nf; k1++ {
		ip := t.fac[nf-k1]
		l1 := l2 / ip
		ido := n / l2
		iw -= (ip - 1) * ido
		na = !na
		src, dst := c, ch
		if na {
			src, dst = ch, c
		}
		if ip == 4 {
			radf4(ido, l1, src, dst, t.wa[iw:], t.wa[iw+ido:], t.wa[iw+2*ido:])
		} else {
			radf2(ido, l1, src, dst, t.wa[iw:])
		}
		l2 = l1
	}
	if !na {
		copy(c, ch)
	}
}

// backward is Rfftb: the packed spectrum in r becomes n times the
// sequence.
func (t *realFFT) backward(r []float64) {
	n := t.n
	c, ch := r[:n], t.work[:n]
	na := false
	l1 := 1
	iw := 0
	for _, ip := range t.fac {
		l2 := ip * l1
		ido := n / l2
		src, dst := c, ch
		if na {
			src, dst = ch, c
		}
		if ip == 4 {
			radb4(ido, l1, src, dst, t.wa[iw:], t.wa[iw+ido:], t.wa[iw+2*ido:])
		} else {
			radb2(ido, l1, src, dst, t.wa[iw:])
		}
		na = !na
		l1 = l2
		iw += (ip - 1) * ido
	}
	if na {
		copy(c, ch)
	}
}

// In the radix passes, cc(i, k, j) of gonum's threeArray(ido, l1, m) is
// cc[i + ido·k + ido·l1·j] and ch(i, j, k) of threeArray(ido, m, l1) is
// ch[i + ido·j + ido·m·k] (forward; the roles swap in backward).

func radf2(ido, l1 int, cc, ch, wa1 []float64) {
	cs := ido * l1 // cc's j stride
	for k := 0; k < l1; k++ {
		a, b := cc[ido*k], cc[ido*k+cs]
		ch[2*ido*k] = a + b
		ch[ido-1+ido+2*ido*k] = a - b
	}
	if ido < 2 {
		return
	}
	if ido > 2 {
		idp2 := ido + 1
		for k := 0; k < l1; k++ {
			c0 := cc[ido*k : ido*k+ido]
			c1 := cc[ido*k+cs : ido*k+cs+ido]
			h0 := ch[2*ido*k : 2*ido*k+ido]
			h1 := ch[2*ido*k+ido : 2*ido*k+2*ido]
			for i := 2; i < ido; i += 2 {
				ic := idp2 - (i + 1)
				wr, wi := wa1[i-2], -wa1[i-1]
				xr, xi := c1[i-1], c1[i]
				t2r := float64(wr*xr) - float64(wi*xi)
				t2i := float64(wr*xi) + float64(wi*xr)
				zr, zi := c0[i-1], c0[i]
				h0[i-1], h0[i] = zr+t2r, zi+t2i
				// conj(z) − conj(t2), kept as gonum spells it for its
				// signed zeros.
				h1[ic-1], h1[ic] = zr-t2r, (-zi)-(-t2i)
			}
		}
		if ido%2 == 1 {
			return
		}
	}
	for k := 0; k < l1; k++ {
		ch[ido+2*ido*k] = -cc[ido-1+ido*k+cs]
		ch[ido-1+2*ido*k] = cc[ido-1+ido*k]
	}
}

func radf4(ido, l1 int, cc, ch, wa1, wa2, wa3 []float64) {
	const hsqt2 = math.Sqrt2 / 2
	cs := ido * l1
	for k := 0; k < l1; k++ {
		b := ido * k
		c0, c1, c2, c3 := cc[b], cc[b+cs], cc[b+2*cs], cc[b+3*cs]
		tr1 := c1 + c3
		tr2 := c0 + c2
		o := 4 * ido * k
		ch[o] = tr1 + tr2
		ch[ido-1+3*ido+o] = tr2 - tr1
		ch[ido-1+ido+o] = c0 - c2
		ch[2*ido+o] = c3 - c1
	}
	if ido < 2 {
		return
	}
	if ido > 2 {
		for k := 0; k < l1; k++ {
			b := ido * k
			x0 := cc[b : b+ido]
			x1 := cc[b+cs : b+cs+ido]
			x2 := cc[b+2*cs : b+2*cs+ido]
			x3 := cc[b+3*cs : b+3*cs+ido]
			o := 4 * ido * k
			h0 := ch[o : o+ido]
			h1 := ch[o+ido : o+2*ido]
			h2 := ch[o+2*ido : o+3*ido]
			h3 := ch[o+3*ido : o+4*ido]
			// Every slice cut to len(x0), and ic counted down from it:
			// the compiler then proves the loop's indexes in bounds
			// (16 checks an iteration less).
			x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
			h0, h1, h2, h3 = h0[:len(x0)], h1[:len(x0)], h2[:len(x0)], h3[:len(x0)]
			wa1, wa2, wa3 := wa1[:len(x0)], wa2[:len(x0)], wa3[:len(x0)]
			for i := 2; i < len(x0); i += 2 {
				ic := len(x0) - i
				// c_j = complex(wa_j[i-2], -wa_j[i-1]) · x_j
				w1r, w1i := wa1[i-2], -wa1[i-1]
				w2r, w2i := wa2[i-2], -wa2[i-1]
				w3r, w3i := wa3[i-2], -wa3[i-1]
				a1r, a1i := x1[i-1], x1[i]
				a2r, a2i := x2[i-1], x2[i]
				a3r, a3i := x3[i-1], x3[i]
				c2r := float64(w1r*a1r) - float64(w1i*a1i)
				c2i := float64(w1r*a1i) + float64(w1i*a1r)
				c3r := float64(w2r*a2r) - float64(w2i*a2i)
				c3i := float64(w2r*a2i) + float64(w2i*a2r)
				c4r := float64(w3r*a3r) - float64(w3i*a3i)
				c4i := float64(w3r*a3i) + float64(w3i*a3r)
				t1r, t1i := c2r+c4r, c2i+c4i
				zr, zi := x0[i-1], x0[i]
				t2r, t2i := zr+c3r, zi+c3i
				t3r, t3i := zr-c3r, zi-c3i
				t4r, t4i := c4r-c2r, -(c4i - c2i) // conj(c4 − c2)
				h0[i-1], h0[i] = t1r+t2r, t1i+t2i
				h3[ic-1], h3[ic] = t2r-t1r, -(t2i - t1i) // conj(t2 − t1)
				h2[i-1], h2[i] = t4i+t3r, t4r+t3i        // swap(t4) + t3
				h1[ic-1], h1[ic] = t3r-t4i, -(t3i - t4r) // conj(t3 − swap(t4))
			}
		}
		if ido%2 == 1 {
			return
		}
	}
	for k := 0; k < l1; k++ {
		b := ido - 1 + ido*k
		c0, c1, c2, c3 := cc[b], cc[b+cs], cc[b+2*cs], cc[b+3*cs]
		ti1 := float64(-hsqt2 * (c1 + c3))
		tr1 := float64(hsqt2 * (c1 - c3))
		o := 4 * ido * k
		ch[ido-1+o] = tr1 + c0
		ch[ido-1+2*ido+o] = c0 - tr1
		ch[ido+o] = ti1 - c2
		ch[3*ido+o] = ti1 + c2
	}
}

func radb2(ido, l1 int, cc, ch, wa1 []float64) {
	hs := ido * l1 // ch's j stride
	for k := 0; k < l1; k++ {
		a, b := cc[2*ido*k], cc[ido-1+ido+2*ido*k]
		ch[ido*k] = a + b
		ch[ido*k+hs] = a - b
	}
	if ido < 2 {
		return
	}
	if ido > 2 {
		idp2 := ido + 1
		for k := 0; k < l1; k++ {
			x0 := cc[2*ido*k : 2*ido*k+ido]
			x1 := cc[2*ido*k+ido : 2*ido*k+2*ido]
			h0 := ch[ido*k : ido*k+ido]
			h1 := ch[ido*k+hs : ido*k+hs+ido]
			for i := 2; i < ido; i += 2 {
				ic := idp2 - (i + 1)
				ar, ai := x0[i-1], x0[i]
				br, bi := x1[ic-1], -x1[ic] // conj
				h0[i-1], h0[i] = ar+br, ai+bi
				t2r, t2i := ar-br, ai-bi
				wr, wi := wa1[i-2], wa1[i-1]
				h1[i-1] = float64(wr*t2r) - float64(wi*t2i)
				h1[i] = float64(wr*t2i) + float64(wi*t2r)
			}
		}
		if ido%2 == 1 {
			return
		}
	}
	for k := 0; k < l1; k++ {
		ch[ido-1+ido*k] = 2 * cc[ido-1+2*ido*k]
		ch[ido-1+ido*k+hs] = -2 * cc[ido+2*ido*k]
	}
}

func radb4(ido, l1 int, cc, ch, wa1, wa2, wa3 []float64) {
	hs := ido * l1
	for k := 0; k < l1; k++ {
		o := 4 * ido * k
		a0, a3 := cc[o], cc[ido-1+3*ido+o]
		a1, a2 := cc[ido-1+ido+o], cc[2*ido+o]
		tr1 := a0 - a3
		tr2 := a0 + a3
		tr3 := a1 + a1
		tr4 := a2 + a2
		b := ido * k
		ch[b] = tr2 + tr3
		ch[b+hs] = tr1 - tr4
		ch[b+2*hs] = tr2 - tr3
		ch[b+3*hs] = tr1 + tr4
	}
	if ido < 2 {
		return
	}
	if ido > 2 {
		for k := 0; k < l1; k++ {
			o := 4 * ido * k
			x0 := cc[o : o+ido]
			x1 := cc[o+ido : o+2*ido]
			x2 := cc[o+2*ido : o+3*ido]
			x3 := cc[o+3*ido : o+4*ido]
			b := ido * k
			h0 := ch[b : b+ido]
			h1 := ch[b+hs : b+hs+ido]
			h2 := ch[b+2*hs : b+2*hs+ido]
			h3 := ch[b+3*hs : b+3*hs+ido]
			// As in radf4: slices cut to one length, proven indexes.
			x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
			h0, h1, h2, h3 = h0[:len(x0)], h1[:len(x0)], h2[:len(x0)], h3[:len(x0)]
			wa1, wa2, wa3 := wa1[:len(x0)], wa2[:len(x0)], wa3[:len(x0)]
			for i := 2; i < len(x0); i += 2 {
				ic := len(x0) - i
				ar, ai := x0[i-1], x0[i]
				dr, di := x3[ic-1], -x3[ic] // conj(cc(ic-1, 3, k))
				er, ei := x2[i-1], x2[i]
				fr, fi := x1[ic-1], -x1[ic] // conj(cc(ic-1, 1, k))
				t1r, t1i := ar-dr, ai-di
				t2r, t2i := ar+dr, ai+di
				t3r, t3i := er+fr, ei+fi
				t4r, t4i := ei-fi, er-fr // swap(e − f)
				h0[i-1], h0[i] = t2r+t3r, t2i+t3i
				c2r, c2i := t1r-t4r, t1i-(-t4i) // t1 − conj(t4)
				c3r, c3i := t2r-t3r, t2i-t3i
				c4r, c4i := t1r+t4r, t1i+(-t4i) // t1 + conj(t4)
				w1r, w1i := wa1[i-2], wa1[i-1]
				w2r, w2i := wa2[i-2], wa2[i-1]
				w3r, w3i := wa3[i-2], wa3[i-1]
				h1[i-1] = float64(w1r*c2r) - float64(w1i*c2i)
				h1[i] = float64(w1r*c2i) + float64(w1i*c2r)
				h2[i-1] = float64(w2r*c3r) - float64(w2i*c3i)
				h2[i] = float64(w2r*c3i) + float64(w2i*c3r)
				h3[i-1] = float64(w3r*c4r) - float64(w3i*c4i)
				h3[i] = float64(w3r*c4i) + float64(w3i*c4r)
			}
		}
		if ido%2 == 1 {
			return
		}
	}
	for k := 0; k < l1; k++ {
		o := 4 * ido * k
		tr1 := cc[ido-1+o] - cc[ido-1+2*ido+o]
		ti1 := cc[ido+o] + cc[3*ido+o]
		tr2 := cc[ido-1+o] + cc[ido-1+2*ido+o]
		ti2 := cc[3*ido+o] - cc[ido+o]
		b := ido - 1 + ido*k
		ch[b] = tr2 + tr2
		ch[b+hs] = math.Sqrt2 * (tr1 - ti1)
		ch[b+2*hs] = ti2 + ti2
		ch[b+3*hs] = -math.Sqrt2 * (tr1 + ti1)
	}
}
