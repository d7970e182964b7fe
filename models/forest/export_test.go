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

// PrevFast is the scoring copy before the breadth-first layout
// (prevfast_test.go); the benchmarks time the two.
type PrevFast = prevFast

// NewPrevFast builds f's previous scoring copy (f must have one).
func NewPrevFast(f *Forest) *PrevFast { return newPrevFast(f) }

// PredictAbove is Forest.PredictAbove on the previous scoring copy.
func (p *prevFast) PredictAbove(row []float64, threshold float64) (float64, bool) {
	return p.predictAbove(row, threshold)
}

// BelowWithoutNodes is Bounder.BelowWithout on the 16-byte nodes, one tree
// at a time, as before it walked the scoring copy.
func (b *Bounder) BelowWithoutNodes(row []float64, threshold float64, missing []bool) (below bool, need int) {
	b.f.checkRow(row)
	return b.belowWithoutNodes(row, threshold, missing[:b.f.nFeatures])
}
