package forest

import (
	"math"
	"math/rand/v2"
	"slices"
)

// stat is the weighted class mass and sample count of a set of samples.
// n counts distinct training rows (a row drawn twice by the bootstrap counts
// once, as in scikit-learn), and is what MinSamplesLeaf/Split limit.
type stat struct {
	w [2]float64
	n int32
}

func (s *stat) add(o stat) {
	s.w[0] += o.w[0]
	s.w[1] += o.w[1]
	s.n += o.n
}

func (s stat) minus(o stat) stat {
	return stat{w: [2]float64{s.w[0] - o.w[0], s.w[1] - o.w[1]}, n: s.n - o.n}
}

func (s stat) weight() float64 { return s.w[0] + s.w[1] }

// proba is the weighted fraction of class 1: what a leaf predicts.
func (s stat) proba() float64 {
	w := s.weight()
	if w <= 0 {
		return 0
	}
	// A child's stat is parent minus sibling: with fractional (balanced)
	// weights, rounding can leave a class weight of −1e-13, and the ratio a
	// hair outside [0,1], which the model file then refuses. Clamp.
	return min(1, max(0, s.w[1]/w))
}

// cost is impurity × weight, the quantity a split minimises summed over
// both children (so that it also yields the weighted impurity decrease used
// by feature importances).
func (s stat) cost(c Criterion) float64 {
	w := s.weight()
	if w <= 0 {
		return 0
	}
	if c == Gini {
		// w·(1 − p0² − p1²) = 2·w0·w1/w.
		return 2 * s.w[0] * s.w[1] / w
	}
	{
		e := 0.0
		for _, wc := range s.w {
			if wc > 0 {
				e -= wc * math.Log2(wc/w)
			}
		}
		return e
	}
}

// trainNode is a node while a tree grows; flatten packs it for inference.
type trainNode struct {
	feature   int32 // -1 for a leaf
	threshold float64
	left      int32 // right child is left+1
	nanLeft   bool
	value     float64 // weighted P(class 1) of the node's training samples
}

// split is a candidate split of a node.
type split struct {
	feature     int
	threshold   float64
	nanLeft     bool
	left, right stat
	cost        float64 // children's summed cost; lower is better
}

// builder grows one tree at a time; a worker reuses it for all its trees
// so scratch space is allocated once.
type builder struct {
	d   *dataset
	p   *Params
	rng *rand.Rand

	sw    [][2]float64        // per row: weight if class 0, weight if class 1 (one is 0)
	count []int32             // bootstrap multiplicity per row
	idx   []int32             // rows of the current tree; a node owns idx[start:end]
	perm  []int               // feature order for the current node
	hists [][maxBins + 1]stat // Histogram: one per candidate feature, kept zeroed between uses
	spare []int32             // partition scratch
	pairs []valueRow          // Exact: node values of one feature

	nodes       []trainNode
	importances []float64 // Σ weighted impurity decrease per feature
}

type valueRow struct {
	v   float64
	row int32
}

type pending struct {
	node, start, end, depth int32
	s                       stat
}

func newBuilder(d *dataset, p *Params) *builder {
	b := &builder{
		d:           d,
		p:           p,
		sw:          make([][2]float64, d.n),
		count:       make([]int32, d.n),
		idx:         make([]int32, 0, d.n),
		spare:       make([]int32, d.n),
		hists:       make([][maxBins + 1]stat, d.p),
		perm:        make([]int, d.p),
		importances: make([]float64, d.p),
	}
	return b
}

// treeRNG is the generator of tree t: a function of the seed and t only,
// so forests do not depend on how trees are spread over goroutines.
func treeRNG(seed uint64, t int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15*uint64(t+1)))
}

// bootstrap draws n rows with replacement into count, using the first n
// draws of rng (the out-of-bag code replays exactly these).
func bootstrap(rng *rand.Rand, count []int32) {
	clear(count)
	n := len(count)
	for range n {
		count[rng.IntN(n)]++
	}
}

// grow builds tree t and returns its nodes (and leaves the tree's raw
// feature importances in b.importances).
func (b *builder) grow(t int, classW [2]float64) []trainNode {
	d, p := b.d, b.p
	b.rng = treeRNG(p.Seed, t)
	if p.NoBootstrap {
		for i := range b.count {
			b.count[i] = 1
		}
	} else {
		bootstrap(b.rng, b.count)
	}
	b.idx = b.idx[:0]
	var root stat
	for i, c := range b.count {
		if c == 0 {
			b.sw[i] = [2]float64{}
			continue
		}
		var w [2]float64
		w[d.y[i]] = float64(c) * classW[d.y[i]]
		b.sw[i] = w
		b.idx = append(b.idx, int32(i))
		root.add(stat{w: w, n: 1})
	}
	clear(b.importances)
	for j := range b.perm {
		b.perm[j] = j
	}
	b.nodes = append(b.nodes[:0], trainNode{})
	stack := []pending{{node: 0, start: 0, end: int32(len(b.idx)), depth: 0, s: root}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &b.nodes[top.node]
		nd.feature = -1
		nd.value = top.s.proba()

		n := top.s.n
		if (p.MaxDepth > 0 && int(top.depth) >= p.MaxDepth) ||
			int(n) < p.MinSamplesSplit || int(n) < 2*p.MinSamplesLeaf ||
			top.s.w[0] <= 0 || top.s.w[1] <= 0 {
			continue
		}
		sp, ok := b.bestSplit(top.start, top.end, top.s)
		if !ok {
			continue
		}
		mid := b.partition(top.start, top.end, sp)
		left := int32(len(b.nodes))
		nd.feature = int32(sp.feature)
		nd.threshold = sp.threshold
		nd.nanLeft = sp.nanLeft
		nd.left = left
		b.importances[sp.feature] += top.s.cost(p.Criterion) - sp.cost
		b.nodes = append(b.nodes, trainNode{}, trainNode{})
		stack = append(stack,
			pending{node: left + 1, start: mid, end: top.end, depth: top.depth + 1, s: sp.right},
			pending{node: left, start: top.start, end: mid, depth: top.depth + 1, s: sp.left})
	}
	return slices.Clone(b.nodes)
}

// bestSplit tries features in random order like scikit-learn: it stops
// after MaxFeatures features unless all of them were constant in the node,
// in which case it keeps drawing until it meets a non-constant one. The
// first MaxFeatures draws are evaluated together (one pass over the rows
// for Histogram); the result is the same as drawing them one by one.
func (b *builder) bestSplit(start, end int32, parent stat) (split, bool) {
	best := split{cost: math.Inf(1)}
	found := false
	perm := b.perm
	draw := func(k int) int {
		r := k + b.rng.IntN(len(perm)-k)
		perm[k], perm[r] = perm[r], perm[k]
		return perm[k]
	}
	first := min(b.p.MaxFeatures, len(perm))
	for k := range first {
		draw(k)
	}
	constant := 0
	if b.p.Split == Exact {
		for _, f := range perm[:first] {
			if b.exactSplit(f, start, end, parent, &best, &found) {
				constant++
			}
		}
	} else {
		constant = b.histSplits(perm[:first], start, end, parent, &best, &found)
	}
	for k := first; k < len(perm) && constant == k; k++ {
		f := draw(k)
		var isConst bool
		if b.p.Split == Exact {
			isConst = b.exactSplit(f, start, end, parent, &best, &found)
		} else {
			isConst = b.histSplits(perm[k:k+1], start, end, parent, &best, &found) == 1
		}
		if isConst {
			constant++
		}
	}
	return best, found
}

// consider evaluates a split given left/right mass of the non-NaN samples
// and the NaN mass, trying NaN on either side when there are NaNs. Without
// NaNs in the node the NaN direction is the child with more samples
// (scikit-learn's rule), so unseen NaNs follow the majority at inference.
func (b *builder) consider(f int, thr float64, left, right, nan stat, best *split, found *bool) {
	if nan.n == 0 {
		b.try(f, thr, left, right, left.n >= right.n, best, found)
		return
	}
	l := left
	l.add(nan)
	b.try(f, thr, l, right, true, best, found)
	r := right
	r.add(nan)
	b.try(f, thr, left, r, false, best, found)
}

func (b *builder) try(f int, thr float64, l, r stat, nanLeft bool, best *split, found *bool) {
	minLeaf := int32(b.p.MinSamplesLeaf)
	if l.n < minLeaf || r.n < minLeaf {
		return
	}
	cost := l.cost(b.p.Criterion) + r.cost(b.p.Criterion)
	if cost < best.cost {
		*best = split{feature: f, threshold: thr, nanLeft: nanLeft, left: l, right: r, cost: cost}
		*found = true
	}
}

// histSplits fills the histograms of features feats over the node in one
// pass over its rows, then scans each for the best threshold. It returns
// how many of feats are constant in the node (one value and no NaN, or
// only NaN). Histograms are left zeroed for the next node.
func (b *builder) histSplits(feats []int, start, end int32, parent stat, best *split, found *bool) int {
	p := b.d.p
	bins := b.d.bins
	hs := b.hists[:len(feats)]
	for _, i := range b.idx[start:end] {
		row := bins[int(i)*p : int(i)*p+p]
		w := b.sw[i]
		for k, f := range feats {
			s := &hs[k][row[f]]
			s.w[0] += w[0]
			s.w[1] += w[1]
			s.n++
		}
	}
	constant := 0
	for k, f := range feats {
		if b.scanHist(f, &hs[k], parent, best, found) {
			constant++
		}
	}
	return constant
}

// scanHist finds the best threshold of feature f in its node histogram h,
// and zeroes h.
func (b *builder) scanHist(f int, h *[maxBins + 1]stat, parent stat, best *split, found *bool) bool {
	nb := len(b.d.binLo[f])
	nan := h[nanBin]
	h[nanBin] = stat{}
	values := parent.minus(nan)
	first, last := -1, -1
	for k := range nb {
		if h[k].n > 0 {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 || (first == last && nan.n == 0) {
		if first >= 0 {
			h[first] = stat{}
		}
		return true
	}
	lo, hi := b.d.binLo[f], b.d.binHi[f]
	left := h[first]
	h[first] = stat{}
	prev := first
	for k := first + 1; k <= last; k++ {
		if h[k].n == 0 {
			continue
		}
		b.consider(f, midpoint(hi[prev], lo[k]), left, values.minus(left), nan, best, found)
		left.add(h[k])
		h[k] = stat{}
		prev = k
	}
	if nan.n > 0 {
		// Values on one side, NaN on the other: "is this feature missing?"
		b.considerMissing(f, values, nan, best, found)
	}
	return false
}

// considerMissing evaluates sending every non-NaN sample left and every
// NaN right (threshold +Inf: every number, +Inf included, goes left).
func (b *builder) considerMissing(f int, values, nan stat, best *split, found *bool) {
	minLeaf := int32(b.p.MinSamplesLeaf)
	if values.n < minLeaf || nan.n < minLeaf {
		return
	}
	c := b.p.Criterion
	if cost := values.cost(c) + nan.cost(c); cost < best.cost {
		*best = split{feature: f, threshold: math.Inf(1), nanLeft: false, left: values, right: nan, cost: cost}
		*found = true
	}
}

// exactSplit sorts the node's values of feature f and tries every
// threshold between adjacent distinct values.
func (b *builder) exactSplit(f int, start, end int32, parent stat, best *split, found *bool) bool {
	col := b.d.cols[f]
	pairs := b.pairs[:0]
	var nan stat
	for _, i := range b.idx[start:end] {
		v := col[i]
		if v != v {
			nan.add(stat{w: b.sw[i], n: 1})
			continue
		}
		pairs = append(pairs, valueRow{v, i})
	}
	b.pairs = pairs
	if len(pairs) == 0 {
		return true
	}
	slices.SortFunc(pairs, func(a, c valueRow) int {
		switch {
		case a.v < c.v:
			return -1
		case a.v > c.v:
			return 1
		}
		return 0
	})
	if pairs[0].v == pairs[len(pairs)-1].v && nan.n == 0 {
		return true
	}
	values := parent.minus(nan)
	var left stat
	for k := 0; k < len(pairs)-1; k++ {
		w := b.sw[pairs[k].row]
		left.w[0] += w[0]
		left.w[1] += w[1]
		left.n++
		if pairs[k].v == pairs[k+1].v {
			continue
		}
		b.consider(f, midpoint(pairs[k].v, pairs[k+1].v), left, values.minus(left), nan, best, found)
	}
	if nan.n > 0 {
		b.considerMissing(f, values, nan, best, found)
	}
	return false
}

// partition reorders idx[start:end] so the rows going left come first and
// returns where the right child starts. It is stable, so each node's rows
// stay in increasing order and the histogram pass reads memory forwards.
// It routes by raw value, exactly as inference will.
func (b *builder) partition(start, end int32, sp split) int32 {
	col := b.d.cols[sp.feature]
	idx := b.idx[start:end]
	right := b.spare[:0]
	l := 0
	for _, i := range idx {
		if goesLeft(col[i], sp.threshold, sp.nanLeft) {
			idx[l] = i
			l++
		} else {
			right = append(right, i)
		}
	}
	copy(idx[l:], right)
	return start + int32(l)
}

func goesLeft(v, threshold float64, nanLeft bool) bool {
	if v != v {
		return nanLeft
	}
	return v <= threshold
}
