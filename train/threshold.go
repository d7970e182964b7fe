package train

import (
	"math"
	"sort"
)

// PickThreshold returns the lowest threshold t such that the share of
// benign scores ≥ t is at most targetFPR. With no benign scores it returns
// 0.5. Scores of exactly t count as alarms, so when many benign scores tie
// at the top the threshold moves above them (to the next representable
// value) rather than exceed the target.
func PickThreshold(benign []float64, targetFPR float64) float64 {
	if len(benign) == 0 {
		return 0.5
	}
	s := append([]float64(nil), benign...)
	sort.Float64s(s)
	n := len(s)
	allowed := int(math.Floor(targetFPR * float64(n))) // alarms we may raise
	if allowed >= n {
		return s[0]
	}
	// The (allowed+1)-th highest score must fall below the threshold.
	t := math.Nextafter(s[n-1-allowed], math.Inf(1))
	if t > 1 {
		t = 1
	}
	return t
}

// FPRAt returns the share of benign scores ≥ t.
func FPRAt(benign []float64, t float64) float64 {
	if len(benign) == 0 {
		return 0
	}
	n := 0
	for _, v := range benign {
		if v >= t {
			n++
		}
	}
	return float64(n) / float64(len(benign))
}
