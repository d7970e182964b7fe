package forest

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/minerwatch/minerwatch/models/internal/wirejson"
)

// wireForest is the JSON form of a Forest: one object per tree with
// parallel arrays (a node is the same index in each), which is compact,
// diffable and easy to read back in Python or jq.
type wireForest struct {
	NumFeatures int        `json:"num_features"`
	Params      Params     `json:"params"`
	Importances []float64  `json:"importances"`
	OOB         OOBScore   `json:"oob"`
	Trees       []wireTree `json:"trees"`
}

// wireTree: for node i, Feature[i] is the split feature or -1 for a leaf;
// internal nodes go left when x[Feature] <= Threshold, else right; children
// are Left[i] and Left[i]+1 (Left[i] > i); NaNLeft[i] is 1 when NaN goes
// left; Value[i] is the node's weighted P(class 1), what a leaf predicts.
type wireTree struct {
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []uint32  `json:"left"`
	NaNLeft   []int8    `json:"nan_left"`
	Value     []float64 `json:"value"`
}

// MarshalJSON encodes the forest (trees, parameters, importances, OOB
// score). JSON has no infinities; a ±Inf threshold (a split between a
// finite value and an infinite one) is written as ±1.7976931348623157e308,
// which routes every finite value the same way.
func (f *Forest) MarshalJSON() ([]byte, error) {
	wf := wireForest{
		NumFeatures: f.nFeatures,
		Params:      f.params,
		Importances: f.importances,
		OOB:         f.oob,
		Trees:       make([]wireTree, len(f.roots)),
	}
	for t, root := range f.roots {
		end := f.treeEnd(t)
		m := int(end - root)
		wt := wireTree{
			Feature:   make([]int32, m),
			Threshold: make([]float64, m),
			Left:      make([]uint32, m),
			NaNLeft:   make([]int8, m),
			Value:     make([]float64, m),
		}
		for k := range m {
			n := f.nodes[root+uint32(k)]
			wt.Feature[k] = int32(n.feature)
			wt.Value[k] = f.values[root+uint32(k)]
			if n.isLeaf(root + uint32(k)) {
				wt.Feature[k] = -1
				continue
			}
			wt.Threshold[k] = clampInf(n.threshold)
			wt.Left[k] = n.left - root
			if n.flags&nanRight == 0 {
				wt.NaNLeft[k] = 1
			}
		}
		wf.Trees[t] = wt
	}
	return json.Marshal(wf)
}

func clampInf(v float64) float64 {
	switch {
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// UnmarshalJSON decodes and validates a forest: every index in range,
// children after their parent (so walks always end), features within
// num_features, values in [0,1]. A forest that fails is refused whole.
func (f *Forest) UnmarshalJSON(data []byte) error {
	wf, ok := readWire(wirejson.NewReaderBytes(data))
	if !ok {
		// The fast reader refuses anything unusual (see readWire);
		// encoding/json decodes it, or says what is wrong with it.
		wf = wireForest{}
		if err := json.Unmarshal(data, &wf); err != nil {
			return fmt.Errorf("decode forest: %w", err)
		}
	}
	return f.fromWire(wf)
}

// fromWire validates wf and builds the forest from it.
func (f *Forest) fromWire(wf wireForest) error {
	if wf.NumFeatures <= 0 || wf.NumFeatures > maxFeatures {
		return fmt.Errorf("decode forest: num_features = %d, want 1..%d", wf.NumFeatures, maxFeatures)
	}
	if len(wf.Trees) == 0 {
		return fmt.Errorf("decode forest: no trees")
	}
	if wf.Importances != nil && len(wf.Importances) != wf.NumFeatures {
		return fmt.Errorf("decode forest: %d importances for %d features", len(wf.Importances), wf.NumFeatures)
	}
	trees := make([][]trainNode, len(wf.Trees))
	for t, wt := range wf.Trees {
		nodes, err := wt.nodes(wf.NumFeatures)
		if err != nil {
			return fmt.Errorf("decode forest: tree %d: %w", t, err)
		}
		trees[t] = nodes
	}
	nf := flatten(wf.NumFeatures, trees)
	nf.params = wf.Params
	nf.importances = wf.Importances
	if nf.importances == nil {
		nf.importances = make([]float64, wf.NumFeatures)
	}
	nf.oob = wf.OOB
	*f = *nf
	return nil
}

func (wt wireTree) nodes(nFeatures int) ([]trainNode, error) {
	m := len(wt.Feature)
	if m == 0 {
		return nil, fmt.Errorf("no nodes")
	}
	if len(wt.Threshold) != m || len(wt.Left) != m || len(wt.NaNLeft) != m || len(wt.Value) != m {
		return nil, fmt.Errorf("node arrays differ in length (feature %d, threshold %d, left %d, nan_left %d, value %d)",
			m, len(wt.Threshold), len(wt.Left), len(wt.NaNLeft), len(wt.Value))
	}
	if m >= maxTreeNodes {
		return nil, fmt.Errorf("%d nodes, too many", m)
	}
	out := make([]trainNode, m)
	for i := range m {
		v := wt.Value[i]
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("node %d: value %v outside [0,1]", i, v)
		}
		feat := wt.Feature[i]
		out[i] = trainNode{feature: feat, value: v}
		if feat < 0 {
			if feat != -1 {
				return nil, fmt.Errorf("node %d: feature %d", i, feat)
			}
			continue
		}
		if int(feat) >= nFeatures {
			return nil, fmt.Errorf("node %d: feature %d, forest has %d", i, feat, nFeatures)
		}
		left := wt.Left[i]
		if left <= uint32(i) || uint64(left)+1 >= uint64(m) {
			return nil, fmt.Errorf("node %d: children %d,%d not in (%d, %d)", i, left, uint64(left)+1, i, m)
		}
		thr := wt.Threshold[i]
		if math.IsNaN(thr) {
			return nil, fmt.Errorf("node %d: NaN threshold", i)
		}
		if wt.NaNLeft[i] != 0 && wt.NaNLeft[i] != 1 {
			return nil, fmt.Errorf("node %d: nan_left %d, want 0 or 1", i, wt.NaNLeft[i])
		}
		// ±MaxFloat64 stands for ±Inf (see MarshalJSON). A genuine
		// threshold of ±MaxFloat64 needs a training value of exactly
		// ±MaxFloat64 next to an infinity; only infinite inputs could then
		// be routed differently after a reload, a corner we accept.
		switch thr {
		case math.MaxFloat64:
			thr = math.Inf(1)
		case -math.MaxFloat64:
			thr = math.Inf(-1)
		}
		out[i].threshold = thr
		out[i].left = int32(left)
		out[i].nanLeft = wt.NaNLeft[i] == 1
	}
	return out, nil
}

// readWire decodes the wire form as MarshalJSON writes it, without the
// reflection of encoding/json, which spent about 70 % of a model load on
// the trees' number arrays. It accepts only exact keys, each at most
// once, and numbers within their Go types; on anything else (escaped or
// differently cased keys, null, unknown fields, NaN text, 1e999) it
// reports false and the caller falls back to encoding/json, so a file
// decodes to the same forest, or fails with the same error, either way.
// params and oob are small and go to encoding/json as they are.
// Nothing it returns refers to r's text (keys are only compared, params
// and oob are copied by encoding/json).
func readWire(r *wirejson.Reader) (wf wireForest, ok bool) {
	if !r.Byte('{') {
		return wf, false
	}
	var seen [5]bool
	once := func(k int) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	if r.Byte('}') {
		return wf, r.End()
	}
	for {
		key, ok := r.Key()
		if !ok {
			return wf, false
		}
		switch key {
		case "num_features":
			if !once(0) {
				return wf, false
			}
			v, ok := r.Int(math.MinInt, math.MaxInt)
			if !ok {
				return wf, false
			}
			wf.NumFeatures = int(v)
		case "params":
			if !once(1) || !skipInto(r, &wf.Params) {
				return wf, false
			}
		case "importances":
			if !once(2) {
				return wf, false
			}
			if wf.Importances, ok = r.Floats(64); !ok {
				return wf, false
			}
		case "oob":
			if !once(3) || !skipInto(r, &wf.OOB) {
				return wf, false
			}
		case "trees":
			if !once(4) {
				return wf, false
			}
			if wf.Trees, ok = readWireTrees(r); !ok {
				return wf, false
			}
		default:
			return wf, false
		}
		more, ok := r.Next('}')
		if !ok {
			return wf, false
		}
		if !more {
			return wf, r.End()
		}
	}
}

// skipInto decodes the next value into v with encoding/json.
func skipInto(r *wirejson.Reader, v any) bool {
	text, ok := r.Skip()
	return ok && json.Unmarshal([]byte(text), v) == nil
}

// readWireTrees reads the "trees" array of wireTree objects.
func readWireTrees(r *wirejson.Reader) ([]wireTree, bool) {
	if !r.Byte('[') {
		return nil, false
	}
	trees := make([]wireTree, 0, 128)
	if r.Byte(']') {
		return trees, true
	}
	hint := 64
	for {
		wt, ok := readWireTree(r, hint)
		if !ok {
			return nil, false
		}
		hint = max(hint, len(wt.Feature))
		trees = append(trees, wt)
		more, ok := r.Next(']')
		if !ok {
			return nil, false
		}
		if !more {
			return trees, true
		}
	}
}

// readWireTree reads one tree object; hint sizes its arrays.
func readWireTree(r *wirejson.Reader, hint int) (wt wireTree, ok bool) {
	if !r.Byte('{') {
		return wt, false
	}
	if r.Byte('}') {
		return wt, true
	}
	var seen [5]bool
	for {
		key, ok := r.Key()
		if !ok {
			return wt, false
		}
		k := -1
		switch key {
		case "feature":
			k = 0
			wt.Feature, ok = r.Int32s(hint)
		case "threshold":
			k = 1
			wt.Threshold, ok = r.Floats(hint)
		case "left":
			k = 2
			wt.Left, ok = r.Uint32s(hint)
		case "nan_left":
			k = 3
			wt.NaNLeft, ok = r.Int8s(hint)
		case "value":
			k = 4
			wt.Value, ok = r.Floats(hint)
		}
		if k < 0 || !ok || seen[k] {
			return wt, false
		}
		seen[k] = true
		more, ok := r.Next('}')
		if !ok {
			return wt, false
		}
		if !more {
			return wt, true
		}
	}
}
