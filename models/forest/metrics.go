package forest

import "sort"

// Accuracy is the fraction of rows whose label equals p ≥ threshold.
func Accuracy(y []int, p []float64, threshold float64) float64 {
	if len(y) == 0 {
		return 0
	}
	ok := 0
	for i, label := range y {
		pred := 0
		if p[i] >= threshold {
			pred = 1
		}
		if pred == label {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// ROCAUC is the area under the ROC curve of scores p for labels y (the
// probability that a random positive outranks a random negative, ties
// counting half). It is 0.5 when one class is absent.
func ROCAUC(y []int, p []float64) float64 {
	order := make([]int, len(y))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return p[order[a]] < p[order[b]] })
	// Mann–Whitney U with mid-ranks for ties.
	var pos, neg int
	rankSum := 0.0
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && p[order[j]] == p[order[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of ranks i+1..j
		for _, k := range order[i:j] {
			if y[k] == 1 {
				rankSum += mid
			}
		}
		i = j
	}
	for _, label := range y {
		if label == 1 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}
