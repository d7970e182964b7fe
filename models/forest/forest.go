package forest

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// node is one tree node as inference reads it: 16 bytes, so four share a
// cache line. Children are adjacent (right = left+1), which saves a field.
// A step goes to left + (x > threshold); NaN fails every comparison, so
// it goes left unless the nanRight flag says otherwise. Written as
// (x > t) | (!(x <= t) & nanRight), which differs from x > t only for NaN,
// the step has no branch at all: NaN is common in real rows (a std over
// one packet), so a NaN branch would be mispredicted.
//
// A leaf is its own left child with threshold +Inf and nanRight 0, so
// stepping from a leaf stays put; that lets PredictProba walk several
// trees in lock-step until all stand on a leaf. The flags also say which
// children are leaves, so a walk knows it has arrived with the step that
// arrives, not one step later. The leaf's prediction is in Forest.values.
type node struct {
	threshold float64
	left      uint32 // index of the left child (a leaf: its own index)
	feature   uint16
	flags     uint16 // nanRight | leftLeaf | rightLeaf
}

const (
	nanRight  = 1 << 0 // NaN goes right
	leftLeaf  = 1 << 1 // left child is a leaf (set on leaves too)
	rightLeaf = 1 << 2 // right child is a leaf (set on leaves too)
)

// maxFeatures is the most features a forest can split on (node.feature),
// maxTreeNodes the most nodes a decoded tree may have.
const (
	maxFeatures  = 1 << 16
	maxTreeNodes = 1 << 30
)

// Forest is a trained random forest (or, with one tree, a decision tree)
// for binary classification. It is immutable after training or loading and
// safe for concurrent use.
type Forest struct {
	nFeatures int
	roots     []uint32  // index in nodes of each tree's root
	nodes     []node    // all trees, flattened and contiguous
	values    []float64 // per node: weighted P(class 1) of its training samples
	// tailMax[t] is the most trees t… can add to a sum of leaf values:
	// Σ over those trees of their largest leaf value (PredictAbove).
	tailMax []float64
	// fast and fastRoots are the scoring copy of nodes, values and roots
	// (fast.go); nil for forests too wide for it.
	fast      []fastNode
	fastRoots []uint32

	params      Params
	importances []float64
	oob         OOBScore
}

// Train grows a random forest on rows X (each of the same length; NaN
// allowed, meaning missing) with labels y (0 benign, 1 mining). Trees are
// grown in parallel on Params.Workers goroutines; the result depends only
// on the data, the Params and the seed.
func Train(X [][]float64, y []int, p Params) (*Forest, error) {
	d, err := newDataset(X, y)
	if err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	rp, err := p.resolved(d.p)
	if err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	f := train(d, rp)
	if !rp.NoBootstrap {
		f.oob = f.outOfBag(X, d)
	}
	return f, nil
}

// TrainTree grows a single CART decision tree on all rows (no bootstrap)
// trying every feature at each split unless p.MaxFeatures says otherwise.
// p.Trees and p.NoBootstrap are ignored.
func TrainTree(X [][]float64, y []int, p Params) (*Forest, error) {
	p.Trees = 1
	p.NoBootstrap = true
	if p.MaxFeatures == 0 {
		p.MaxFeatures = AllFeatures
	}
	d, err := newDataset(X, y)
	if err != nil {
		return nil, fmt.Errorf("train tree: %w", err)
	}
	rp, err := p.resolved(d.p)
	if err != nil {
		return nil, fmt.Errorf("train tree: %w", err)
	}
	return train(d, rp), nil
}

func train(d *dataset, p Params) *Forest {
	workers := min(p.Workers, p.Trees)
	if p.Split == Histogram {
		d.binFeatures(p.MaxBins, p.Workers)
	}
	classW := p.ClassWeights
	if p.Balanced {
		var counts [2]int
		for _, c := range d.y {
			counts[c]++
		}
		for c, k := range counts {
			if k > 0 {
				classW[c] = float64(d.n) / (2 * float64(k))
			}
		}
	}
	trees := make([][]trainNode, p.Trees)
	imps := make([][]float64, p.Trees)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBuilder(d, &p)
			for {
				t := int(next.Add(1) - 1)
				if t >= p.Trees {
					return
				}
				trees[t] = b.grow(t, classW)
				imps[t] = normalized(b.importances)
			}
		}()
	}
	wg.Wait()

	f := flatten(d.p, trees)
	f.params = p
	// Mean of per-tree normalised importances, as scikit-learn does, so a
	// deep tree does not outweigh a shallow one.
	f.importances = make([]float64, d.p)
	for _, imp := range imps {
		for j, v := range imp {
			f.importances[j] += v
		}
	}
	f.importances = normalized(f.importances)
	return f
}

// normalized returns a copy of v scaled to sum 1 (all zeros stay zeros).
func normalized(v []float64) []float64 {
	out := make([]float64, len(v))
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	if sum > 0 {
		for j, x := range v {
			out[j] = x / sum
		}
	}
	return out
}

// flatten packs trees into one contiguous node array.
func flatten(nFeatures int, trees [][]trainNode) *Forest {
	total := 0
	for _, t := range trees {
		total += len(t)
	}
	f := &Forest{
		nFeatures: nFeatures,
		roots:     make([]uint32, len(trees)),
		nodes:     make([]node, 0, total),
		values:    make([]float64, 0, total),
	}
	for t, tree := range trees {
		base := uint32(len(f.nodes))
		f.roots[t] = base
		for _, tn := range tree {
			n := node{threshold: math.Inf(1), left: uint32(len(f.nodes)), flags: leftLeaf | rightLeaf}
			if tn.feature >= 0 {
				n = node{threshold: tn.threshold, left: base + uint32(tn.left), feature: uint16(tn.feature)}
				if !tn.nanLeft {
					n.flags |= nanRight
				}
				if tree[tn.left].feature < 0 {
					n.flags |= leftLeaf
				}
				if tree[tn.left+1].feature < 0 {
					n.flags |= rightLeaf
				}
			}
			f.nodes = append(f.nodes, n)
			f.values = append(f.values, tn.value)
		}
	}
	f.tailMax = make([]float64, len(trees)+1)
	for t := len(trees) - 1; t >= 0; t-- {
		most := 0.0
		for _, tn := range trees[t] {
			if tn.feature < 0 {
				most = max(most, tn.value)
			}
		}
		f.tailMax[t] = f.tailMax[t+1] + most
	}
	f.setFast()
	return f
}

// isLeaf reports whether node i (n) is a leaf.
func (n *node) isLeaf(i uint32) bool { return n.left == i }

// NumFeatures is the row length the forest expects.
func (f *Forest) NumFeatures() int { return f.nFeatures }

// NumTrees is the number of trees.
func (f *Forest) NumTrees() int { return len(f.roots) }

// NumNodes is the total number of nodes over all trees.
func (f *Forest) NumNodes() int { return len(f.nodes) }

// Params returns the hyper-parameters the forest was trained with
// (defaults filled in).
func (f *Forest) Params() Params { return f.params }

// treeEnd is one past the last node of tree t.
func (f *Forest) treeEnd(t int) uint32 {
	if t+1 < len(f.roots) {
		return f.roots[t+1]
	}
	return uint32(len(f.nodes))
}
