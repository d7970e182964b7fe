package train

import (
	"strconv"
	"time"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/train/dataset"
)

// Sample is a dataset row prepared for the forest: the chosen set's
// features, the label and what evaluation needs to group results.
type Sample struct {
	X          []float64
	Y          int
	Group      string
	Capture    string
	Scenario   string
	Checkpoint float64 // seconds
	FlowKey    string  // capture + flow id: unique per flow
	Duration   float64 // flow duration so far (s), for false alarms per hour
	// Augmented rows are training-only copies (see dataset.Augmentation):
	// never scored in an evaluation, never used to set a threshold.
	Augmented bool
}

// MaxCheckpoint is the last checkpoint used for training and evaluation.
// Detection keeps scoring later, but a week-long benign trace would
// otherwise contribute two thousand near-identical rows per flow and drown
// every other capture; the first hour is where early detection is decided.
const MaxCheckpoint = time.Hour

// Usable reports whether a row is one the model trains on or is scored
// on: a labelled (not ignored) checkpoint row, up to MaxCheckpoint, of a
// TCP flow with flowfeat.MinScoreDataPkts data packets (stage 2 only
// scores such rows).
func Usable(r *dataset.Row) bool {
	return r.Kind == flowfeat.KindCheckpoint && r.Checkpoint <= MaxCheckpoint && r.Label != dataset.LabelIgnore && r.Proto == 6 && scorable(r)
}

// scorable reports whether the row's flow has the data packets the
// engine needs to score it (detect/engine's MinScorePackets default).
func scorable(r *dataset.Row) bool {
	mw := r.X.Set(flowfeat.SetMW51)
	return mw[1]+mw[19] >= flowfeat.MinScoreDataPkts // up + down data packets
}

// UsableAtEnd is Usable for a detector that also scores flows at their
// end (detect --score-at-end): a late end row (the flow ended between
// checkpoints, after the first) up to MaxCheckpoint counts too.
func UsableAtEnd(r *dataset.Row) bool {
	if r.Kind == flowfeat.KindEnd {
		return r.Late && r.End.Sub(r.FlowFirst) <= MaxCheckpoint && r.Label != dataset.LabelIgnore && r.Proto == 6 && scorable(r)
	}
	return Usable(r)
}

// NewSample extracts set's features from a row. Features named in
// exclude are zeroed: constant columns are never split on, so the model
// cannot use them while the schema stays the set's.
func NewSample(r *dataset.Row, set string, exclude map[int]bool) Sample {
	v := r.X
	src := v.Set(set)
	x := make([]float64, len(src))
	copy(x, src)
	for i := range exclude {
		x[i] = 0
	}
	y := 0
	if r.Positive() {
		y = 1
	}
	mw := v.Set(flowfeat.SetMW51)
	return Sample{
		X: x, Y: y, Group: r.Group, Capture: r.Capture, Scenario: r.Scenario,
		Checkpoint: r.Checkpoint.Seconds(), FlowKey: r.Capture + "#" + strconv.FormatUint(r.FlowID, 10),
		Duration: mw[36], Augmented: r.Augment != "",
	}
}

// Matrix returns the X and y of samples.
func Matrix(s []Sample) ([][]float64, []int) {
	X := make([][]float64, len(s))
	y := make([]int, len(s))
	for i := range s {
		X[i], y[i] = s[i].X, s[i].Y
	}
	return X, y
}

// Originals returns the indices in idx of samples that are not augmented.
func Originals(samples []Sample, idx []int) []int {
	out := idx[:0:0]
	for _, i := range idx {
		if !samples[i].Augmented {
			out = append(out, i)
		}
	}
	return out
}
