package flowfeat

import "sort"

// p2Median estimates the median of a stream in O(1) memory with the P²
// algorithm (Jain & Chlamtac, CACM 1985). The first five samples are kept
// exactly, so small flows get the exact median.
type p2Median struct {
	q   [5]float64 // marker heights
	pos [5]int32   // marker positions (1-based; whole numbers, so int32 halves them)
	// n counts samples in 32 bits, like the other per-direction counters
	// (64 bytes in all, not 72).
	n uint32
}

func (m *p2Median) add(x float64) {
	if m.n < 5 {
		m.q[m.n] = x
		m.n++
		if m.n == 5 {
			sort.Float64s(m.q[:])
			for i := range m.pos {
				m.pos[i] = int32(i + 1)
			}
		}
		return
	}
	m.n++
	var k int
	switch {
	case x < m.q[0]:
		m.q[0] = x
		k = 0
	case x >= m.q[4]:
		m.q[4] = x
		k = 3
	default:
		for k = 0; k < 3; k++ {
			if x < m.q[k+1] {
				break
			}
		}
	}
	for i := k + 1; i < 5; i++ {
		m.pos[i]++
	}
	// Desired positions for p = 0.5: 1, 1+(n-1)/4, 1+(n-1)/2, 1+3(n-1)/4, n.
	nf := float64(m.n - 1)
	desired := [5]float64{1, 1 + nf/4, 1 + nf/2, 1 + 3*nf/4, float64(m.n)}
	for i := 1; i <= 3; i++ {
		d := desired[i] - float64(m.pos[i])
		if (d >= 1 && m.pos[i+1]-m.pos[i] > 1) || (d <= -1 && m.pos[i-1]-m.pos[i] < -1) {
			s := 1.0
			if d < 0 {
				s = -1
			}
			qp := m.parabolic(i, s)
			if m.q[i-1] < qp && qp < m.q[i+1] {
				m.q[i] = qp
			} else {
				m.q[i] = m.linear(i, s)
			}
			m.pos[i] += int32(s)
		}
	}
}

func (m *p2Median) parabolic(i int, d float64) float64 {
	n := func(k int) float64 { return float64(m.pos[k]) }
	return m.q[i] + d/(n(i+1)-n(i-1))*
		((n(i)-n(i-1)+d)*(m.q[i+1]-m.q[i])/(n(i+1)-n(i))+
			(n(i+1)-n(i)-d)*(m.q[i]-m.q[i-1])/(n(i)-n(i-1)))
}

func (m *p2Median) linear(i int, d float64) float64 {
	j := i + int(d)
	return m.q[i] + d*(m.q[j]-m.q[i])/float64(m.pos[j]-m.pos[i])
}

// value returns the median estimate, NaN with no samples.
func (m *p2Median) value() float64 {
	switch {
	case m.n == 0:
		return nan
	case m.n < 5:
		var s [5]float64
		copy(s[:], m.q[:m.n])
		sort.Float64s(s[:m.n])
		if m.n%2 == 1 {
			return s[m.n/2]
		}
		return (s[m.n/2-1] + s[m.n/2]) / 2
	}
	return m.q[2]
}
