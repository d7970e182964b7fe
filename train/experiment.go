package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/seqfeat"
	"github.com/minerwatch/minerwatch/models/modelfile"
	"github.com/minerwatch/minerwatch/train/dataset"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// Experiment names.
const (
	ExpCV          = "grouped-cv"
	ExpPlaintext   = "plaintext-to-encrypted"
	ExpFeatureSets = "feature-sets"
	ExpEarly       = "early"
)

// Experiments lists the experiment names.
func Experiments() []string { return []string{ExpCV, ExpPlaintext, ExpFeatureSets, ExpEarly} }

// LoadProgress is how far LoadRows has read: captures done of all the
// manifests' captures, and their bytes of the total (sizes as on disk;
// Size is 0 when one is unknown, a FIFO).
type LoadProgress struct {
	Captures, Total int
	Bytes, Size     int64
}

// disjointGroups fails when the last manifest of ms (read from the
// matching paths) has a capture whose
// split group (dataset.GroupOf: the file name without extension) is also
// a group of an earlier manifest. Groups are what grouped splits keep
// apart; two sessions of two manifests sharing one would always fall on
// the same side, and a capture listed in two manifests would be counted
// twice and could sit in both training and test.
func disjointGroups(paths []string, ms []*manifest.Manifest) error {
	n := len(ms) - 1
	last := ms[n]
	seen := map[string]string{}
	for i, m := range ms[:n] {
		for _, e := range m.Entries {
			seen[dataset.GroupOf(e.Path)] = paths[i] + ": " + e.Path
		}
	}
	for _, e := range last.Entries {
		if prev, ok := seen[dataset.GroupOf(e.Path)]; ok {
			return fmt.Errorf("%s line %d: %s has the split group %q of %s: rename one capture (groups must not span manifests)",
				paths[n], e.Line, e.Path, dataset.GroupOf(e.Path), prev)
		}
	}
	return nil
}

// LoadRows builds the dataset rows of every manifest and keeps the usable
// ones (see Usable; UsableAtEnd with atEnd). progress, if set, is called
// after each capture.
func LoadRows(ctx context.Context, manifests []string, cp flowfeat.Checkpoints, augment []dataset.Augmentation, atEnd bool, progress func(LoadProgress)) ([]dataset.Row, dataset.Summary, error) {
	usable := Usable
	if atEnd {
		usable = UsableAtEnd
	}
	var rows []dataset.Row
	total := dataset.Summary{ByLabel: map[string]int{}}
	var ms []*manifest.Manifest
	var p LoadProgress
	sizeKnown := true
	for _, path := range manifests {
		m, err := manifest.Load(path)
		if err != nil {
			return nil, total, err
		}
		ms = append(ms, m)
		if err := disjointGroups(manifests[:len(ms)], ms); err != nil {
			return nil, total, err
		}
		p.Total += len(m.Entries)
		for _, e := range m.Entries {
			if fi, err := os.Stat(e.File); err == nil && fi.Mode().IsRegular() {
				p.Size += fi.Size()
			} else {
				sizeKnown = false
			}
		}
	}
	if !sizeKnown {
		p.Size = 0
	}
	done := func(e *manifest.Entry) {
		p.Captures++
		if fi, err := os.Stat(e.File); err == nil {
			p.Bytes += fi.Size()
		}
		progress(p)
	}
	for _, m := range ms {
		o := dataset.Options{Checkpoints: cp, Augment: augment}
		if progress != nil {
			o.Done = done
		}
		sum, err := dataset.Build(ctx, m, o, func(r *dataset.Row) error {
			if usable(r) {
				if r.Kind == flowfeat.KindEnd {
					// Reported with the checkpoint it beat: a flow
					// scored at its end at 14 s is decided "by 20 s".
					age := r.End.Sub(r.FlowFirst)
					r.Checkpoint = age
					if next := cp.Next(age); next > 0 {
						r.Checkpoint = next
					}
				}
				rows = append(rows, *r)
			}
			return nil
		})
		if err != nil {
			return nil, total, err
		}
		total.Captures += sum.Captures
		total.Flows += sum.Flows
		total.Rows += sum.Rows
		total.Packets += sum.Packets
		for k, v := range sum.ByLabel {
			total.ByLabel[k] += v
		}
	}
	return rows, total, nil
}

// Samples extracts cfg.Set's features from rows.
func Samples(rows []dataset.Row, cfg Config) ([]Sample, error) {
	ex, err := ExcludeIndex(cfg.Set, cfg.Exclude)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, len(rows))
	for i := range rows {
		out[i] = NewSample(&rows[i], cfg.Set, ex)
	}
	return out, nil
}

// Run runs a named experiment and returns its reports (one per feature
// set for ExpFeatureSets).
func Run(name string, rows []dataset.Row, cfg Config) ([]*Report, error) {
	switch name {
	case ExpCV, ExpPlaintext:
		if !cfg.Augment {
			rows = withoutAugmented(rows)
		}
		s, err := Samples(rows, cfg)
		if err != nil {
			return nil, err
		}
		var scored []Scored
		var folds []FoldInfo
		var trainS, testS []Sample
		var note string
		if name == ExpPlaintext {
			// Split once, so the per-checkpoint models see the same
			// sessions on each side as one model would.
			var left []Sample
			trainS, testS, left = PlaintextSplit(s)
			if len(left) > 0 {
				note = fmt.Sprintf("mining flows are the encrypted (TLS, proxy) ones only: the plaintext legs of tunnelled sessions (%d flows, %d rows) neither train (same session as an encrypted test flow) nor count",
					countFlows(left), len(left))
			}
			for i := range trainS {
				trainS[i].Group = "train:" + trainS[i].Group
			}
			s = append(trainS, testS...)
		}
		for _, part := range checkpointParts(s, cfg.PerCheckpoint, cfg.PhaseSplit) {
			var sc []Scored
			var fi []FoldInfo
			if name == ExpCV {
				sc, fi, err = CrossValidate(part, cfg)
			} else {
				var tr, te []Sample
				for _, x := range part {
					if strings.HasPrefix(x.Group, "train:") {
						tr = append(tr, x)
					} else {
						te = append(te, x)
					}
				}
				sc, fi, err = Holdout(tr, te, cfg)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			scored, folds = append(scored, sc...), append(folds, fi...)
		}
		if name == ExpCV && !cfg.PerCheckpoint && cfg.PhaseSplit == 0 { // one set of folds to compare
			note = unevenFoldNote(s, folds)
		}
		r := NewReport(name, cfg, scored, folds)
		if note != "" {
			r.Notes = append(r.Notes, note)
		}
		return []*Report{r}, nil
	case ExpEarly:
		return runEarly(rows, cfg)
	case ExpFeatureSets:
		var out []*Report
		for _, set := range flowfeat.ModelSets() {
			c := cfg
			c.Set = set
			reps, err := Run(ExpCV, rows, c)
			if err != nil {
				return nil, err
			}
			reps[0].Experiment = ExpFeatureSets + ":" + set
			out = append(out, reps[0])
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown experiment %q (known: %v)", name, Experiments())
}

// checkpointParts splits samples by checkpoint for per-checkpoint models
// (all of them in one part otherwise): one part per checkpoint up to
// 120 s, one for 300 s and later; or, with split > 0, one part up to
// split seconds and one after.
func checkpointParts(s []Sample, per bool, split float64) [][]Sample {
	if split > 0 {
		var early, late []Sample
		for _, x := range s {
			if x.Checkpoint <= split {
				early = append(early, x)
			} else {
				late = append(late, x)
			}
		}
		return [][]Sample{early, late}
	}
	if !per {
		return [][]Sample{s}
	}
	parts := map[float64][]Sample{}
	for _, x := range s {
		k := math.Min(x.Checkpoint, 300)
		parts[k] = append(parts[k], x)
	}
	keys := make([]float64, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Float64s(keys)
	out := make([][]Sample, 0, len(keys))
	for _, k := range keys {
		out = append(out, parts[k])
	}
	return out
}

// earlyVariant is one model configuration of ExpEarly.
type earlyVariant struct {
	name    string
	set     string
	per     bool
	exclude []string
	split   float64 // seconds: two models, for rows up to it and after
}

// earlyVariants: today's set against the sequence set and both, as one
// model (with the flow's age as a feature where the set has it, and
// without) or one model per checkpoint; and how many sequence positions
// are worth keeping (the later ones excluded).
func earlyVariants() []earlyVariant {
	beyond := func(k int) []string {
		var out []string
		for i := k + 1; i <= seqfeat.N; i++ {
			out = append(out, "seq_len_"+strconv.Itoa(i))
			if i > 1 { // the first message has no gap column
				out = append(out, "seq_gap_"+strconv.Itoa(i))
			}
		}
		return out
	}
	both := flowfeat.SetMW51XSeq
	// The positional columns are lengths and gaps of one capture's
	// sessions; the summaries (modes, ranges, pairing, the opening
	// exchange, pushes, quiet) are shapes that may carry from plaintext
	// to encrypted sessions: one variant keeps only them.
	positions := beyond(0)
	var seqAll []string
	for _, d := range seqfeat.Defs() {
		if d.Name != "elapsed" {
			seqAll = append(seqAll, d.Name)
		}
	}
	// early: the flow's age and the columns made for the first seconds
	// (the opening exchange, quiet, answered shares, unasked pushes).
	keep := map[string]bool{"elapsed": true, "seq_open_answer": true, "seq_quiet": true, "seq_answered_share": true,
		"seq_req_len_range": true, "seq_reply_len_range": true, "seq_unasked": true}
	var notEarly []string
	for _, n := range seqAll {
		if !keep[n] {
			notEarly = append(notEarly, n)
		}
	}
	return []earlyVariant{
		{"both-summaries", both, false, positions, 0},
		{"mw51x-elapsed", both, false, seqAll, 0},
		{"mw51x-early", both, false, notEarly, 0},
		// The first seconds (10-30 s rows) by a model of their own, the
		// rest by one like today's: the early rows then cannot move the
		// later rows' threshold.
		{"mw51x-two-phases", flowfeat.SetMW51X, false, nil, 30},
		{"mw51x", flowfeat.SetMW51X, false, nil, 0},
		{"mw51x-per-checkpoint", flowfeat.SetMW51X, true, nil, 0},
		{"seq", flowfeat.SetSeq, false, nil, 0},
		{"seq-no-elapsed", flowfeat.SetSeq, false, []string{"elapsed"}, 0},
		{"seq-per-checkpoint", flowfeat.SetSeq, true, []string{"elapsed"}, 0},
		{"both", both, false, nil, 0},
		{"both-no-elapsed", both, false, []string{"elapsed"}, 0},
		{"both-per-checkpoint", both, true, []string{"elapsed"}, 0},
		{"both-n8", both, false, beyond(8), 0},
		{"both-n16", both, false, beyond(16), 0},
		{"both-n24", both, false, beyond(24), 0},
	}
}

// runEarly compares feature sets and model layouts for early verdicts,
// in grouped CV and plaintext → encrypted (see earlyVariants).
func runEarly(rows []dataset.Row, cfg Config) ([]*Report, error) {
	var out []*Report
	for _, v := range earlyVariants() {
		if len(cfg.Variants) > 0 && !slices.Contains(cfg.Variants, v.name) {
			continue
		}
		c := cfg
		c.Set, c.PerCheckpoint, c.PhaseSplit = v.set, v.per, v.split
		c.Exclude = append(append([]string(nil), cfg.Exclude...), v.exclude...)
		for _, exp := range []string{ExpCV, ExpPlaintext} {
			reps, err := Run(exp, rows, c)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", v.name, exp, err)
			}
			reps[0].Experiment = ExpEarly + ":" + exp + ":" + v.name
			out = append(out, reps[0])
		}
	}
	return out, nil
}

// WriteByTime writes one line per report and checkpoint: encrypted
// mining flows detected by then, false benign flows and false alarms per
// benign flow-hour — the comparison table of ExpEarly.
func WriteByTime(w io.Writer, reps []*Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "experiment\tby\tTLS+proxy\tplaintext\tfalse flows\tFPR/flow\tFA/flow-hour\t")
	for _, r := range reps {
		enc := r.Flows.MiningByScenario["tls"] + r.Flows.MiningByScenario["proxy"]
		for _, tl := range r.Flows.ByTime {
			if tl.At > 300 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%gs\t%d/%d\t%d/%d\t%d/%d\t%s\t%.3f\t\n", r.Experiment, tl.At, tl.EncryptedDetected, enc,
				tl.Detected["plaintext"], r.Flows.MiningByScenario["plaintext"], tl.FalseAlarmFlows, r.Flows.BenignFlows, pct(tl.FPR), tl.FalseAlarmsPerHour)
		}
		fmt.Fprintf(tw, "%s\tend\t%d/%d\t%d/%d\t%d/%d\t%s\t%.3f\t\n", r.Experiment, r.Flows.ByScenario["tls"]+r.Flows.ByScenario["proxy"], enc,
			r.Flows.ByScenario["plaintext"], r.Flows.MiningByScenario["plaintext"], r.Flows.FalseAlarmFlows, r.Flows.BenignFlows, pct(r.Flows.FPR), r.Flows.FalseAlarmsPerHour)
	}
	tw.Flush()
}

func withoutAugmented(rows []dataset.Row) []dataset.Row {
	var out []dataset.Row
	for i := range rows {
		if rows[i].Augment == "" {
			out = append(out, rows[i])
		}
	}
	return out
}

// BuildModel fits the model on every row and describes its making.
func BuildModel(rows []dataset.Row, cfg Config, sources []string, cv *Report) (*modelfile.Model, error) {
	if !cfg.Augment {
		rows = withoutAugmented(rows)
	}
	s, err := Samples(rows, cfg)
	if err != nil {
		return nil, err
	}
	cfg.step(0, 0, "final model: training trees on %d rows", len(s))
	f, thr, err := Fit(s, cfg)
	if err != nil {
		return nil, err
	}
	pos := 0
	for _, x := range s {
		pos += x.Y
	}
	groups := map[string]bool{}
	for _, x := range s {
		groups[x.Group] = true
	}
	created := time.Now().UTC()
	// SOURCE_DATE_EPOCH (reproducible-builds.org) pins the creation time,
	// so `make model` rebuilds a byte-identical file from the same data.
	if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		created = time.Unix(v, 0).UTC()
	}
	m := &modelfile.Model{
		FeatureSet:   cfg.Set,
		FeatureNames: flowfeat.Names([]string{cfg.Set}),
		Threshold:    thr,
		Forest:       f,
		Training: modelfile.Training{
			CreatedAt: created, Sources: sources, TrainRows: len(s), Positives: pos,
			Metrics: map[string]float64{"oob_auc": f.OOB().ROCAUC, "oob_accuracy": f.OOB().Accuracy},
			Extra: map[string]any{
				"target_fpr": cfg.TargetFPR, "excluded_features": cfg.Exclude, "groups": len(groups), "augmented": cfg.Augment,
				"threshold_from": "out-of-group benign scores of inner grouped folds",
				"rows":           "TCP flows at checkpoints, labelled by manifest and signature stage",
			},
		},
	}
	if cv != nil {
		m.Training.Metrics["cv_flow_recall"] = cv.Flows.Recall
		m.Training.Metrics["cv_flow_fpr"] = cv.Flows.FPR
		m.Training.Metrics["cv_false_alarms_per_flow_hour"] = cv.Flows.FalseAlarmsPerHour
		m.Training.Metrics["cv_row_auc"] = cv.ROCAUC
		for _, sl := range cv.ByCheckpoint {
			if sl.Name == "120s" {
				m.Training.Metrics["cv_recall_120s"] = sl.Recall
				m.Training.Metrics["cv_f1_120s"] = sl.F1
			}
		}
	}
	return m, nil
}

// ScoreWithModel evaluates an existing model on rows (captures it did not
// train on, for an honest figure).
func ScoreWithModel(rows []dataset.Row, m *modelfile.Model, cfg Config) (*Report, error) {
	if err := m.CheckSchema(cfg.Set, flowfeat.Names([]string{cfg.Set})); err != nil {
		return nil, err
	}
	s, err := Samples(withoutAugmented(rows), Config{Set: m.FeatureSet})
	if err != nil {
		return nil, err
	}
	cfg.step(0, 0, "scoring %d rows", len(s))
	scored := make([]Scored, len(s))
	for i := range s {
		scored[i] = Scored{Sample: s[i], Score: m.Forest.PredictProba(s[i].X), Threshold: m.Threshold}
	}
	c := cfg
	c.Exclude = nil
	rep := NewReport("model", c, scored, []FoldInfo{{Threshold: m.Threshold, TestRows: len(s), Importances: m.Forest.Importances()}})
	return rep, nil
}

// GroupsOf lists the distinct groups of rows, sorted.
func GroupsOf(rows []dataset.Row) []string {
	seen := map[string]bool{}
	for i := range rows {
		seen[rows[i].Group] = true
	}
	out := make([]string, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// countFlows counts the distinct flows of samples.
func countFlows(samples []Sample) int {
	seen := map[string]bool{}
	for _, s := range samples {
		seen[s.FlowKey] = true
	}
	return len(seen)
}

// unevenFoldNote explains a fold that tests far more rows than the others
// (over 1.5 times its share): GroupKFold already deals the sessions out
// largest first to the emptiest fold, so such a fold holds one session
// bigger than a fold's share, which no grouped split can cut. Returns ""
// when the folds are even.
func unevenFoldNote(samples []Sample, folds []FoldInfo) string {
	if len(folds) == 0 {
		return ""
	}
	big := folds[0]
	for _, f := range folds {
		if f.TestRows > big.TestRows {
			big = f
		}
	}
	n := len(samples)
	if float64(big.TestRows) <= 1.5*float64(n)/float64(len(folds)) {
		return ""
	}
	size := map[string]int{}
	for _, x := range samples {
		if !x.Augmented {
			size[x.Group]++
		}
	}
	var group string
	for _, g := range sortedKeys(size) {
		if size[g] > size[group] {
			group = g
		}
	}
	return fmt.Sprintf("model %d tests %d of the %d rows (%.0f%%): session %s alone holds %d rows (%.0f%%), and a session is never split across folds; the other folds are balanced by rows",
		big.Fold, big.TestRows, n, 100*float64(big.TestRows)/float64(n), group, size[group], 100*float64(size[group])/float64(n))
}
