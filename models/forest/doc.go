// Package forest is minerwatch's random forest: CART decision trees and
// bagged forests of them for binary classification (benign 0 / mining 1)
// on float64 feature rows, with training, fast scoring, explanations and
// importances. It needs only the standard library.
//
// Stage 2 of the detector scores flow windows with a Forest loaded from a
// model file (package modelfile); package train grows it.
//
// # Training
//
// Train follows scikit-learn's RandomForestClassifier, so results can be
// cross-checked (tests/python/test_forest_sklearn.py) and hyper-parameters
// carried over: Gini or entropy, bootstrap with out-of-bag score,
// ⌊√p⌋ features tried per split (drawing more when all drawn ones are
// constant), max depth, min samples per split and leaf, class weights or
// balanced weighting (mining flows are rare). Leaves predict the weighted
// fraction of class 1; the forest averages its trees.
//
// Splits are found on histograms by default: each feature is binned once
// into at most 255 quantile bins (one bin per value when a feature has no
// more distinct values, in which case the splits are exactly the exact
// method's) and a node's histograms are built in one pass over its rows.
// On 100k rows × 51 features that trains several times faster than sorting
// the node's values for every feature (Exact, also available) at the same
// held-out accuracy; see bench_test.go. Thresholds are midpoints between
// adjacent training values, as in scikit-learn.
//
// Trees are grown in parallel. Tree t draws only from a generator seeded by
// (Params.Seed, t), so a seed gives the same forest on any number of cores.
//
// # Missing values
//
// NaN means "missing" (a std over one packet, a ratio with an empty
// direction) and needs no imputation. At every split the NaN rows of the
// node are tried on both sides, and also alone against all the others
// ("is it missing?"), and go where impurity drops most; that learned
// default direction is stored in the node and NaN follows it at inference.
// When a node saw no NaN in training, NaN goes to the child that received
// more training rows. This is scikit-learn's (≥ 1.4) behaviour too.
//
// # Scoring
//
// All trees are flattened into one contiguous array of 16-byte nodes
// (children adjacent, a leaf is its own child) that training, explanations
// and model files read. Scoring walks a copy of it (fast.go) in which NaN's
// learned direction is folded into the split itself (the row is extended
// with each feature's negation and magnitude, and the children of a
// NaN-goes-right split trade places), so a step is one compare and an add,
// with no data-dependent branch. In the copy each tree is laid out
// breadth-first from the start of a cache line, so the levels where most
// rows leave it share one or two lines, and a leaf holds its own value.
// Eight trees are walked in lock-step and nothing is allocated.
// PredictProba scores one row; PredictProbaBatch scores many, walking each
// tree for a block of rows at a time. PredictAbove answers the detector's
// question, "is the score at least the threshold?", walking only the trees
// needed: it stops once the remaining trees could not lift the mean to the
// threshold even with their largest leaves, and returns the exact score
// otherwise. All three give bit-identical scores to each other and to the
// previous layouts (reference_test.go, prevfast_test.go; checked on every
// feature row of the shared datasets and on rows built around the model's
// own thresholds), so a model's cross-validated figures do not depend on
// the layout. A Bounder answers "is it below?" for a row with features
// still uncomputed, when it can (BelowWithout), on the same copy and in
// the same lock-step, with the answers of a tree-by-tree walk. Contributions
// explains one score (Saabas path attribution: bias + Σ contributions =
// probability), which the detector uses for the "top features" of an
// alert. Importances (mean decrease in
// impurity) comes free with training; PermutationImportance measures
// score drops on held-out data. WriteRules prints a tree as if/else rules.
//
// # Performance
//
// Measured on the shared 2-core development VM (figures move by ±50% with
// the other work on it): 100 trees on 100k rows × 51 features train in
// 14 s with histogram splits against 88 s for scikit-learn with n_jobs=2
// on the same data (tests/python/bench_forest_sklearn.py), Exact takes
// about 5× longer than Histogram. Scoring depends on forest size: time is
// about proportional to the trees walked. The shipped model has 120 trees
// (16.8k nodes) since 2026-12-06, 200 (28k) before, at the same grouped-CV
// figures (Makefile, MODEL_FLAGS). BenchmarkShippedModel (shipped_test.go)
// times the layouts interleaved, and with MINERWATCH_BENCH_MODEL another
// model file, such as the 200-tree model; the median of per-chunk ratios
// barely moves with the load, and the 10th percentile of per-chunk times
// (p10) stands for a quiet machine. 120 against 200 trees at load 5–7
// (8 runs): full score p10 1.48–1.52 µs per row against 2.35–2.39 (median
// chunk 1.56–1.67 against 2.47–2.62; median ratio 1.55–1.58×),
// PredictAbove p10 0.75–0.80 against 1.11–1.13 (1.39–1.50×). Walking tree
// by tree the group of eight where the bound can answer cut PredictAbove's
// p10 from 0.787 to 0.754 µs (interleaved test binaries, 3 runs) and
// BelowWithout's instructions by 10% (callgrind, below). On the 200-tree
// model at load 12–17 (16 runs): the breadth-first copy takes 1/1.14–1/1.17
// (runs 1.12–1.26) of the time of the copy before it for a full score and
// 1/1.12–1/1.14 (1.10–1.29) for PredictAbove; p10 2.55–2.71 against
// 2.92–2.95 µs and 1.32–1.39 against 1.42–1.48 µs per row.
// The 16-byte nodes take 1.78× as long as the copy for a full score, the
// layout before them 2.5×. Bounder.BelowWithout as detect calls it (the
// four periodicity features missing, each pair filled in when a walk names
// it): 1.41–1.54× faster than tree by tree on the nodes
// (BenchmarkBounderLayouts, 10 runs at load 10–12), though callgrind
// counts 1.5× its instructions (detect on merged-k1: 105 M → 156 M; the
// lock-step takes 5.3 steps per tree where a walk needs 3.1): what it
// saves are mispredicted branches, which callgrind does not count. In
// detect on merged-k1 (callgrind with its cache simulation) BelowWithout
// took 129 M instructions and 1.45 M L1 read misses with the 200-tree
// model; reading a leaf's value from its node rather than from the bound
// array cut the misses to 0.92 M, the 120-tree model to 0.43 M at 86 M
// instructions, walking the last group tree by tree to 0.38 M at 78 M.
// A real run asks about 1.01 walks per scored row (merged-k10, 93,280
// rows: 89,460 BelowWithout, 310 of them again after a periodicity was
// computed, 4,300 PredictAbove, 170 of them after a BelowWithout that
// could not answer, 200 Contributions), so re-walking only the trees that
// stopped on a missing feature could save at most those 0.7%: not done.
// Tried on the shipped model and slower
// or no faster, interleaved the same way: 8-byte nodes comparing ranks
// (each feature's value ranked among the model's thresholds once per row,
// exact, but the 53 binary searches cost more than the smaller nodes
// save), walks in phases with branch-free compaction of the unfinished
// trees, two levels per step, four trees in lock-step, walks capped at a
// depth and finished alone, trees grouped by expected depth (+0–5%),
// every tree's first levels gathered in one hot region (slower: the
// breadth-first tree's second line, next to its first, is fetched with
// it), trees aligned to 128 bytes (no change).
// Forests of 100 trees of 3.4k nodes take 15–20 µs, 100 fully grown trees of
// 13k nodes 40–60 µs (scikit-learn: ~115 µs per row in batch, ~90 ms for
// one row). See bench_test.go.
//
// # Example
//
//	f, err := forest.Train(X, y, forest.Params{Trees: 200, Balanced: true, Seed: 1})
//	if err != nil {
//		return err
//	}
//	p := f.PredictProba(row)                 // P(mining)
//	contrib := make([]float64, f.NumFeatures())
//	bias := f.Contributions(row, contrib)    // p == bias + Σ contrib
//	fmt.Println(p, bias, f.OOB().ROCAUC, f.Importances())
package forest
