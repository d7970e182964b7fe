package train

import (
	"math/rand/v2"
	"sort"
)

// GroupKFold assigns every group to one of k folds and returns, per fold,
// the indices of its test samples. A group never spans two folds. Groups
// with mining samples and groups without are dealt out separately, each
// largest first to the fold that has the fewest samples of that kind so
// far (as scikit-learn's GroupKFold balances sizes), so every fold gets
// positives when there are at least k positive groups and one huge capture
// (a week-long trace) does not leave the other folds nearly empty. Ties are
// broken by a seeded shuffle, so the seed varies the folds.
func GroupKFold(samples []Sample, k int, seed uint64) [][]int {
	pos := map[string]bool{}
	size := map[string]int{}
	var groups []string
	for _, s := range samples {
		if size[s.Group] == 0 {
			groups = append(groups, s.Group)
		}
		size[s.Group]++
		if s.Y == 1 {
			pos[s.Group] = true
		}
	}
	sort.Strings(groups)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	sort.SliceStable(groups, func(i, j int) bool { return size[groups[i]] > size[groups[j]] })
	fold := map[string]int{}
	for _, positive := range []bool{true, false} {
		load := make([]int, k)
		for _, g := range groups {
			if pos[g] != positive {
				continue
			}
			best := 0
			for f := 1; f < k; f++ {
				if load[f] < load[best] {
					best = f
				}
			}
			fold[g] = best
			load[best] += size[g]
		}
	}
	out := make([][]int, k)
	for i, s := range samples {
		f := fold[s.Group]
		out[f] = append(out[f], i)
	}
	return out
}

// Complement returns the indices in [0, n) not in idx.
func Complement(n int, idx []int) []int {
	in := make([]bool, n)
	for _, i := range idx {
		in[i] = true
	}
	var out []int
	for i := 0; i < n; i++ {
		if !in[i] {
			out = append(out, i)
		}
	}
	return out
}

// Subset returns samples[idx...].
func Subset(samples []Sample, idx []int) []Sample {
	out := make([]Sample, len(idx))
	for i, j := range idx {
		out[i] = samples[j]
	}
	return out
}
