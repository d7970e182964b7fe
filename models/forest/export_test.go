package forest

// Reference is the pre-compact inference layout (reference_test.go),
// exported to the external tests that score real feature rows.
type Reference = refForest

// NewReference rebuilds f in the reference layout.
func NewReference(f *Forest) *Reference { return newRefForest(f) }

// PredictAboveNodes is PredictAbove on the 16-byte nodes, as it was
// before the scoring copy (fast.go); the benchmarks time the two.
func (f *Forest) PredictAboveNodes(row []float64, threshold float64) (float64, bool) {
	f.checkRow(row)
	return f.predictAboveNodes(row, threshold)
}
