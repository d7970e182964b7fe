package train

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/models/forest"
)

// Config is what an experiment or a fit needs.
type Config struct {
	Set       string        // feature set
	Exclude   []string      // features the model may not use (see DefaultExclude)
	Params    forest.Params // forest hyper-parameters
	TargetFPR float64       // per benign row (flow at a checkpoint)
	Folds     int           // outer folds of cross-validation
	// Augment adds the augmented copies of every capture to the training
	// rows (dataset.DefaultAugmentations); evaluation uses originals only.
	// Off by default: on the shared datasets (model checkpoints) it found
	// one more proxy flow in grouped CV at the same false alarms, and in
	// plaintext → encrypted two more TLS flows at twice the false alarms —
	// the gap is not (only) record overhead; the measurements do not
	// justify it.
	Augment bool
	// FlowThreshold picks the threshold for TargetFPR per benign flow (its
	// highest score over its rows) instead of per benign row: with rows at
	// 10, 20 and 30 s a flow is scored many more times, and online a flow
	// alarms at its first row over the threshold.
	FlowThreshold bool
	// PerCheckpoint trains one model per early checkpoint (10, 20, 30,
	// 60, 120 s; one for 300 s and later), each with its own threshold,
	// instead of one model for every row. See ExpEarly for which is better.
	PerCheckpoint bool
	// PhaseSplit > 0 (seconds) trains two models instead, one for the rows
	// up to it (the first seconds: opening exchange) and one for the later
	// rows, each with its own threshold.
	PhaseSplit float64
	// Variants limits ExpEarly to the named variants (all when empty).
	Variants []string
	// InnerFolds split the training part again to get out-of-group benign
	// scores for the threshold; 0 → 3.
	InnerFolds int
	Seed       uint64
	// Progress, if set, is told each step as it starts, for a progress
	// line; it runs on the caller's goroutine.
	Progress func(Step)
}

// Step is a step of an experiment or a fit.
type Step struct {
	// What it is: "cross-validation fold 2/5 (mw51x): training trees".
	What string
	// Of a series of like steps (the folds), Done have finished of Total;
	// Total is 0 for a single step.
	Done, Total int
}

// step reports a step to c.Progress.
func (c Config) step(done, total int, format string, args ...any) {
	if c.Progress != nil {
		c.Progress(Step{What: fmt.Sprintf(format, args...), Done: done, Total: total})
	}
}

// DefaultExclude lists mw51 features the default model does not use, and
// why: they describe how a capture was made rather than how mining
// behaves. syn/fin/rst: whether a capture saw a connection's handshake or
// end depends on when the capture started and stopped (lab captures always
// hold the SYN; public traces often start mid-flow). duration and idle_max
// at a checkpoint are bounded by the checkpoint itself and by capture
// length. rtt is the path's round-trip time: a property of where the pool
// is, and one lab's fixed delays would be learned as "mining".
var DefaultExclude = []string{"syn", "fin", "rst", "duration", "rtt"}

// DefaultParams are the forest settings of the shipped model.
func DefaultParams() forest.Params {
	return forest.Params{Trees: 200, MinSamplesLeaf: 2, Balanced: true, Seed: 1}
}

// DefaultConfig is the configuration of `minerwatch train`.
func DefaultConfig() Config {
	return Config{Set: flowfeat.SetMW51X, Exclude: DefaultExclude, Params: DefaultParams(), TargetFPR: 0.02, Folds: 5, InnerFolds: 3, Seed: 1}
}

// ExcludeIndex maps excluded feature names to column indices of set,
// rejecting unknown names.
func ExcludeIndex(set string, names []string) (map[int]bool, error) {
	defs := flowfeat.Defs(set)
	if defs == nil {
		return nil, fmt.Errorf("unknown feature set %q", set)
	}
	out := map[int]bool{}
	for _, n := range names {
		found := false
		for i, d := range defs {
			if d.Name == n {
				out[i], found = true, true
			}
		}
		if !found {
			// A feature of another set is irrelevant here, not an error:
			// DefaultExclude names mw51 features and applies to every set.
			if !inAnySet(n) {
				return nil, fmt.Errorf("exclude: no feature %q", n)
			}
		}
	}
	return out, nil
}

func inAnySet(name string) bool {
	for _, n := range flowfeat.Names(flowfeat.Sets()) {
		if n == name {
			return true
		}
	}
	return false
}

// Fit trains a forest on samples and picks its threshold from
// out-of-group benign scores (inner grouped folds) at cfg.TargetFPR.
func Fit(samples []Sample, cfg Config) (*forest.Forest, float64, error) {
	if len(samples) == 0 {
		return nil, 0, errors.New("no training rows")
	}
	pos := 0
	for _, s := range samples {
		pos += s.Y
	}
	if pos == 0 || pos == len(samples) {
		return nil, 0, fmt.Errorf("training rows need both classes (%d mining of %d)", pos, len(samples))
	}
	X, y := Matrix(samples)
	f, err := forest.Train(X, y, cfg.Params)
	if err != nil {
		return nil, 0, err
	}
	inner := cfg.InnerFolds
	if inner <= 0 {
		inner = 3
	}
	var benign []float64
	flowMax := map[string]float64{}
	for _, test := range GroupKFold(samples, inner, cfg.Seed+1) {
		tr := Subset(samples, Complement(len(samples), test))
		te := Subset(samples, test)
		trPos := 0
		for _, s := range tr {
			trPos += s.Y
		}
		if trPos == 0 || trPos == len(tr) || len(te) == 0 {
			continue
		}
		Xi, yi := Matrix(tr)
		fi, err := forest.Train(Xi, yi, cfg.Params)
		if err != nil {
			return nil, 0, err
		}
		for _, s := range te {
			if s.Y == 0 && !s.Augmented {
				p := fi.PredictProba(s.X)
				benign = append(benign, p)
				flowMax[s.FlowKey] = math.Max(flowMax[s.FlowKey], p)
			}
		}
	}
	if cfg.FlowThreshold {
		benign = benign[:0]
		for _, k := range sortedKeys(flowMax) {
			benign = append(benign, flowMax[k])
		}
	}
	return f, PickThreshold(benign, cfg.TargetFPR), nil
}

// Scored is a sample with its out-of-fold score and the threshold of the
// model that scored it.
type Scored struct {
	Sample
	Score     float64
	Threshold float64
	Fold      int
}

// Alarm reports whether the score reaches the threshold.
func (s *Scored) Alarm() bool { return s.Score >= s.Threshold }

// CrossValidate scores every sample with a model that never saw its group.
func CrossValidate(samples []Sample, cfg Config) ([]Scored, []FoldInfo, error) {
	folds := GroupKFold(samples, cfg.Folds, cfg.Seed)
	var out []Scored
	var infos []FoldInfo
	for k, test := range folds {
		if len(test) == 0 {
			continue
		}
		cfg.step(k, len(folds), "cross-validation fold %d/%d (%s): training trees", k+1, len(folds), cfg.Set)
		tr := Subset(samples, Complement(len(samples), test))
		f, thr, err := Fit(tr, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("fold %d: %w", k, err)
		}
		infos = append(infos, FoldInfo{Fold: k, Threshold: thr, TrainRows: len(tr), TestRows: len(test), Importances: f.Importances()})
		for _, i := range Originals(samples, test) {
			s := samples[i]
			out = append(out, Scored{Sample: s, Score: f.PredictProba(s.X), Threshold: thr, Fold: k})
		}
	}
	return out, infos, nil
}

// Holdout fits on train and scores test.
func Holdout(trainS, testS []Sample, cfg Config) ([]Scored, []FoldInfo, error) {
	cfg.step(0, 0, "holdout: training trees on %d rows", len(trainS))
	f, thr, err := Fit(trainS, cfg)
	if err != nil {
		return nil, nil, err
	}
	var out []Scored
	for _, s := range testS {
		if !s.Augmented {
			out = append(out, Scored{Sample: s, Score: f.PredictProba(s.X), Threshold: thr})
		}
	}
	return out, []FoldInfo{{Threshold: thr, TrainRows: len(trainS), TestRows: len(testS), Importances: f.Importances()}}, nil
}

// FoldInfo describes one trained model of an experiment.
type FoldInfo struct {
	Fold        int       `json:"fold"`
	Threshold   float64   `json:"threshold"`
	TrainRows   int       `json:"train_rows"`
	TestRows    int       `json:"test_rows"`
	Importances []float64 `json:"-"`
}

// PlaintextSplit splits samples for the "plaintext → encrypted"
// experiment: test groups are those with TLS or proxied mining, plus every
// other benign group (alternating after sorting, so both sides see hard
// negatives); training gets the groups with plaintext mining and the rest
// of the benign groups. A session's plaintext aux leg (the proxy-to-pool
// leg of a tunnelled session) shares its group, so it cannot train; it is
// plaintext mining, so it is not tested either: left holds those rows,
// and the experiment's mining flows are the encrypted ones only.
func PlaintextSplit(samples []Sample) (trainS, testS, left []Sample) {
	encrypted := map[string]bool{}
	positive := map[string]bool{}
	var benignGroups []string
	seen := map[string]bool{}
	for _, s := range samples {
		if s.Y == 1 {
			positive[s.Group] = true
			if s.Scenario == "tls" || s.Scenario == "proxy" {
				encrypted[s.Group] = true
			}
		}
	}
	for _, s := range samples {
		if !positive[s.Group] && !seen[s.Group] {
			seen[s.Group] = true
			benignGroups = append(benignGroups, s.Group)
		}
	}
	sort.Strings(benignGroups)
	testBenign := map[string]bool{}
	for i, g := range benignGroups {
		if i%2 == 1 {
			testBenign[g] = true
		}
	}
	for _, s := range samples {
		switch {
		case encrypted[s.Group] && s.Y == 1 && s.Scenario != "tls" && s.Scenario != "proxy":
			left = append(left, s)
		case encrypted[s.Group] || testBenign[s.Group]:
			testS = append(testS, s)
		default:
			trainS = append(trainS, s)
		}
	}
	return trainS, testS, left
}

func fmtF(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
