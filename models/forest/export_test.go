package forest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/minerwatch/minerwatch/models/internal/wirejson"
)

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

// UnmarshalReflect decodes data as UnmarshalJSON did before readWire:
// with encoding/json alone. The tests compare the two.
func UnmarshalReflect(f *Forest, data []byte) error {
	var wf wireForest
	if err := json.Unmarshal(data, &wf); err != nil {
		return fmt.Errorf("decode forest: %w", err)
	}
	return f.fromWire(wf)
}

// ReadsFast reports whether UnmarshalJSON takes its fast path for data.
func ReadsFast(data []byte) bool {
	_, ok := readWire(wirejson.NewReaderBytes(data))
	return ok
}

// SameBits reports the first difference between a and b in any field a
// loaded forest has (nodes, leaf values, scoring copy, importances,
// parameters, OOB score), comparing floats bit for bit; "" if none.
func SameBits(a, b *Forest) string {
	bits := func(name string, x, y []float64) string {
		if len(x) != len(y) || (x == nil) != (y == nil) {
			return fmt.Sprintf("%s: %d against %d", name, len(x), len(y))
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return fmt.Sprintf("%s[%d]: %v against %v", name, i, x[i], y[i])
			}
		}
		return ""
	}
	switch {
	case a.nFeatures != b.nFeatures:
		return fmt.Sprintf("features %d against %d", a.nFeatures, b.nFeatures)
	case !slices.Equal(a.roots, b.roots):
		return "roots differ"
	case !slices.Equal(a.fastRoots, b.fastRoots):
		return "fast roots differ"
	case len(a.nodes) != len(b.nodes) || len(a.fast) != len(b.fast):
		return fmt.Sprintf("nodes %d/%d against %d/%d", len(a.nodes), len(a.fast), len(b.nodes), len(b.fast))
	case !reflect.DeepEqual(a.params, b.params):
		return fmt.Sprintf("params %+v against %+v", a.params, b.params)
	}
	for i := range a.nodes {
		x, y := a.nodes[i], b.nodes[i]
		if math.Float64bits(x.threshold) != math.Float64bits(y.threshold) || x.left != y.left || x.feature != y.feature || x.flags != y.flags {
			return fmt.Sprintf("node %d: %+v against %+v", i, x, y)
		}
	}
	for i := range a.fast {
		x, y := a.fast[i], b.fast[i]
		if math.Float64bits(x.threshold) != math.Float64bits(y.threshold) || x.first != y.first || x.slot != y.slot || x.leafs != y.leafs {
			return fmt.Sprintf("fast node %d: %+v against %+v", i, x, y)
		}
	}
	oa, ob := a.oob, b.oob
	for _, d := range []string{
		bits("values", a.values, b.values),
		bits("tailMax", a.tailMax, b.tailMax),
		bits("importances", a.importances, b.importances),
		bits("oob", []float64{oa.Accuracy, oa.ROCAUC}, []float64{ob.Accuracy, ob.ROCAUC}),
	} {
		if d != "" {
			return d
		}
	}
	if oa.Rows != ob.Rows {
		return "oob rows differ"
	}
	return ""
}
