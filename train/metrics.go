package train

import (
	"math"
	"sort"
)

// Confusion counts decisions at a threshold.
type Confusion struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
}

func (c *Confusion) add(y int, alarm bool) {
	switch {
	case y == 1 && alarm:
		c.TP++
	case y == 1:
		c.FN++
	case alarm:
		c.FP++
	default:
		c.TN++
	}
}

func div(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Precision is TP/(TP+FP).
func (c Confusion) Precision() float64 { return div(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN).
func (c Confusion) Recall() float64 { return div(c.TP, c.TP+c.FN) }

// FPR is FP/(FP+TN).
func (c Confusion) FPR() float64 { return div(c.FP, c.FP+c.TN) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if math.IsNaN(p) || math.IsNaN(r) || p+r == 0 {
		return math.NaN()
	}
	return 2 * p * r / (p + r)
}

// PRPoint is one point of a precision-recall curve.
type PRPoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// PRCurve returns the precision-recall curve of scores p for labels y
// (one point per distinct score, highest threshold first) and the average
// precision (area under the step curve).
func PRCurve(y []int, p []float64) ([]PRPoint, float64) {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	pos := 0
	for _, v := range y {
		pos += v
	}
	if pos == 0 {
		return nil, math.NaN()
	}
	var out []PRPoint
	tp, fp := 0, 0
	ap, lastR := 0.0, 0.0
	for k := 0; k < len(idx); {
		t := p[idx[k]]
		for k < len(idx) && p[idx[k]] == t {
			if y[idx[k]] == 1 {
				tp++
			} else {
				fp++
			}
			k++
		}
		r := float64(tp) / float64(pos)
		pr := float64(tp) / float64(tp+fp)
		ap += (r - lastR) * pr
		lastR = r
		out = append(out, PRPoint{Threshold: t, Precision: pr, Recall: r})
	}
	return out, ap
}

// ROCAUC is the area under the ROC curve (ties count half).
func ROCAUC(y []int, p []float64) float64 {
	type sp struct {
		s float64
		y int
	}
	v := make([]sp, len(p))
	npos, nneg := 0, 0
	for i := range p {
		v[i] = sp{p[i], y[i]}
		if y[i] == 1 {
			npos++
		} else {
			nneg++
		}
	}
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	sort.Slice(v, func(a, b int) bool { return v[a].s < v[b].s })
	// Mann-Whitney U with average ranks for ties.
	rankSum := 0.0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j].s == v[i].s {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if v[k].y == 1 {
				rankSum += avg
			}
		}
		i = j
	}
	return (rankSum - float64(npos*(npos+1))/2) / float64(npos*nneg)
}
