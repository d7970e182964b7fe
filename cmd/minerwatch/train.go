package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/outfile"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/models/modelfile"
	"github.com/minerwatch/minerwatch/train"
	"github.com/minerwatch/minerwatch/train/dataset"
)

// trainFlags registers the flags shared by train and eval.
type trainFlags struct {
	manifests   multiFlag
	set         string
	exclude     string
	targetFPR   float64
	trees       int
	folds       int
	seed        uint64
	checkpoints string
	reportDir   string
	augment     bool
	perFlow     bool
	perCP       bool
	variants    string
	atEnd       bool
}

func (t *trainFlags) register(fs *flag.FlagSet) {
	d := train.DefaultConfig()
	fs.Var(&t.manifests, "manifest", "dataset manifest `FILE` (TSV: path label mining scenario ignore note; paths relative to its folder); repeatable: the captures of all, e.g. ../shared/datasets/manifest.tsv and datasets/benign-ns/manifest.tsv (no capture name in two)")
	fs.StringVar(&t.set, "set", d.Set, "feature `SET`: "+strings.Join(flowfeat.ModelSets(), ", ")+" (mw51x = mw51 followed by mwx)")
	fs.StringVar(&t.exclude, "exclude", strings.Join(d.Exclude, ","), "features the model may not use (comma-separated; '' for none)")
	fs.Float64Var(&t.targetFPR, "target-fpr", d.TargetFPR, "false-positive rate per benign flow-checkpoint the threshold aims at")
	fs.IntVar(&t.trees, "trees", d.Params.Trees, "trees in the forest")
	fs.IntVar(&t.folds, "folds", d.Folds, "grouped cross-validation folds")
	fs.Uint64Var(&t.seed, "seed", d.Seed, "random seed (training is reproducible given the seed)")
	fs.StringVar(&t.checkpoints, "checkpoints", flowfeat.ModelCheckpoints().String(), "checkpoints the model trains and is evaluated at (seconds; last +N repeats)")
	fs.StringVar(&t.reportDir, "report", "", "also write the report as JSON and SVG into `DIR`")
	fs.BoolVar(&t.perFlow, "threshold-per-flow", d.FlowThreshold, "aim --target-fpr at benign flows (a flow's highest score over its rows) rather than benign rows")
	fs.BoolVar(&t.perCP, "per-checkpoint", d.PerCheckpoint, "one model per early checkpoint (10, 20, 30, 60, 120, 300+ s) instead of one for every row (grouped-cv and plaintext-to-encrypted only)")
	fs.BoolVar(&t.atEnd, "score-at-end", false, "also train and evaluate on flows at their end when they end between checkpoints, as detect --score-at-end scores them")
	fs.StringVar(&t.variants, "variants", "", "with --experiment early: only these `VARIANTS` (comma-separated names; default all)")
	fs.BoolVar(&t.augment, "augment", false, "also train on copies of every capture with TLS/AEAD/SSH record overhead added to each data packet (evaluation uses the recorded captures only)")
}

func (t *trainFlags) config() (train.Config, flowfeat.Checkpoints, error) {
	c := train.DefaultConfig()
	c.Set, c.TargetFPR, c.Folds, c.Seed = t.set, t.targetFPR, t.folds, t.seed
	c.Params.Trees, c.Params.Seed = t.trees, t.seed
	c.Augment, c.FlowThreshold, c.PerCheckpoint = t.augment, t.perFlow, t.perCP
	for _, v := range strings.Split(t.variants, ",") {
		if v = strings.TrimSpace(v); v != "" {
			c.Variants = append(c.Variants, v)
		}
	}
	c.Exclude = nil
	for _, x := range strings.Split(t.exclude, ",") {
		if x = strings.TrimSpace(x); x != "" {
			c.Exclude = append(c.Exclude, x)
		}
	}
	if flowfeat.Defs(c.Set) == nil {
		return c, flowfeat.Checkpoints{}, fmt.Errorf("unknown feature set %q (known: %s)", c.Set, strings.Join(flowfeat.ModelSets(), ", "))
	}
	if !(c.TargetFPR > 0 && c.TargetFPR < 1) { // also refuses NaN
		return c, flowfeat.Checkpoints{}, errors.New("--target-fpr must be in (0, 1)")
	}
	if c.Folds < 2 {
		return c, flowfeat.Checkpoints{}, errors.New("--folds must be at least 2")
	}
	if c.Params.Trees < 1 {
		return c, flowfeat.Checkpoints{}, errors.New("--trees must be at least 1")
	}
	if _, err := train.ExcludeIndex(c.Set, c.Exclude); err != nil {
		return c, flowfeat.Checkpoints{}, err
	}
	cp, err := flowfeat.ParseCheckpoints(t.checkpoints)
	if err != nil {
		return c, cp, err
	}
	if len(t.manifests) == 0 {
		return c, cp, errors.New("no manifest given (use --manifest FILE)")
	}
	return c, cp, nil
}

func (t *trainFlags) augmentations(cfg train.Config) []dataset.Augmentation {
	if !cfg.Augment {
		return nil
	}
	return dataset.DefaultAugmentations()
}

// checkReportDir refuses a --report folder that cannot be made or
// written in before any work, not after the cross-validation.
func (t *trainFlags) checkReportDir() error {
	if t.reportDir == "" {
		return nil
	}
	return outfile.CheckDir(t.reportDir)
}

func writeReports(dir, base string, reps []*train.Report, stdout io.Writer, temps *outfile.Temps) error {
	for _, r := range reps {
		r.WriteText(stdout)
		fmt.Fprintln(stdout)
	}
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	for _, r := range reps {
		name := base + "-" + strings.ReplaceAll(r.Experiment, ":", "-")
		for _, out := range []struct {
			ext   string
			write func(io.Writer) error
		}{
			{".json", r.WriteJSON},
			{".svg", r.WriteSVG},
			{".txt", func(w io.Writer) error { r.WriteText(w); return nil }},
		} {
			if err := writeFileAtomic(filepath.Join(dir, name+out.ext), out.write, temps); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFileAtomic writes a file through internal/outfile: under a
// temporary name (registered in temps) renamed into place.
func writeFileAtomic(path string, write func(io.Writer) error, temps *outfile.Temps) error {
	out, err := outfile.Create(path, outfile.Options{Temps: temps})
	if err != nil {
		return err
	}
	if err := write(out); err != nil {
		out.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return out.Commit()
}

func runTrain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("train", "--manifest M -o MODEL [flags]",
		"Train the flow classifier on labelled captures: extract features, evaluate with grouped\ncross-validation (splits by capture session, never by flow), fit the forest on everything,\npick the threshold for the target false-positive rate on out-of-group benign rows, and\nwrite a versioned model file (gzip JSON, atomically).", stderr)
	var t trainFlags
	t.register(fs)
	out := fs.String("o", "", "model `FILE` to write (e.g. model.json.gz; missing folders are created)")
	noCV := fs.Bool("no-cv", false, "skip the cross-validation report")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	cfg, cp, err := t.config()
	if err != nil {
		return badFlag(stderr, "train", err)
	}
	if *out == "" {
		return badFlag(stderr, "train", errors.New("no output given (use -o MODEL)"))
	}
	sig := watchSignals("train", stderr)
	defer sig.stop()
	outOpt := outfile.Options{Inputs: t.manifests, Temps: sig.temps}
	if err := outfile.Check(*out, outOpt); err != nil {
		return fail(stderr, "train", err)
	}
	if err := t.checkReportDir(); err != nil {
		return fail(stderr, "train", err)
	}
	prog := newProgress(stderr, nil)
	cfg.Progress = prog.step
	rows, sum, err := train.LoadRows(sig.ctx, t.manifests, cp, t.augmentations(cfg), t.atEnd, prog.loading)
	prog.done()
	if sig.signal() != nil {
		return sig.report("reading the captures (no model written)")
	}
	if err != nil {
		return fail(stderr, "train", err)
	}
	// Cross-validation and fitting cannot stop half-way: a signal now
	// removes the temporary files and exits at once.
	sig.setHard(true)
	if sig.signal() != nil { // arrived just before the switch
		return sig.report("reading the captures (no model written)")
	}
	fmt.Fprintf(stderr, "%d captures, %d flows, %d usable rows in %d session groups\n", sum.Captures, sum.Flows, len(rows), len(train.GroupsOf(rows)))
	// The model file lists its captures by content, so eval can tell
	// when it is asked to score what the model learned.
	ids, err := train.HashCaptures(sig.ctx, t.manifests)
	if sig.signal() != nil {
		return sig.report("hashing the captures (no model written)")
	}
	if err != nil {
		return fail(stderr, "train", err)
	}
	var cv *train.Report
	if !*noCV {
		reps, err := train.Run(train.ExpCV, rows, cfg)
		prog.done()
		if err != nil {
			return fail(stderr, "train", err)
		}
		cv = reps[0]
		if err := writeReports(t.reportDir, "train", reps, stdout, sig.temps); err != nil {
			return fail(stderr, "train", err)
		}
	}
	m, err := train.BuildModel(rows, cfg, t.manifests, cv)
	prog.done()
	if err != nil {
		return fail(stderr, "train", err)
	}
	train.RecordTrainingCaptures(m, ids)
	mf, err := outfile.Create(*out, outOpt)
	if err != nil {
		return fail(stderr, "train", err)
	}
	if err := modelfile.SaveOutput(mf, m); err != nil {
		return fail(stderr, "train", err)
	}
	fmt.Fprintf(stderr, "model → %s (threshold %.4f, %d rows, %d mining)\n", *out, m.Threshold, m.Training.TrainRows, m.Training.Positives)
	return 0
}

func runEval(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval", "--manifest M [--model MODEL | --experiment NAME] [flags]",
		"Evaluate: score a manifest's captures with a trained model (use captures it was not\ntrained on: eval warns, and says so in the report, when some trained it), or run a\ntraining experiment: "+strings.Join(train.Experiments(), ", ")+".\nPrecision, recall, F1, FPR per benign flow and per benign flow-hour, per scenario and\ncheckpoint, confusion matrix, PR curve, feature importances: text here, JSON+SVG with --report.", stderr)
	var t trainFlags
	t.register(fs)
	modelPath := fs.String("model", "", "model `FILE` to evaluate, or 'default' for the model shipped in the binary")
	exp := fs.String("experiment", "", "`EXPERIMENT` to run instead of scoring a model: "+strings.Join(train.Experiments(), ", "))
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	cfg, cp, err := t.config()
	if err != nil {
		return badFlag(stderr, "eval", err)
	}
	if (*modelPath == "") == (*exp == "") {
		return badFlag(stderr, "eval", errors.New("give exactly one of --model or --experiment"))
	}
	if err := t.checkReportDir(); err != nil {
		return fail(stderr, "eval", err)
	}
	sig := watchSignals("eval", stderr)
	defer sig.stop()
	var m *modelfile.Model
	switch *modelPath {
	case "":
	case "default": // the model shipped in the binary, as detect and features take it
		if m, err = defaultmodel.Load(); err != nil {
			return fail(stderr, "eval", err)
		}
	default:
		if m, err = modelfile.Load(*modelPath); err != nil {
			return fail(stderr, "eval", err)
		}
	}
	if m != nil {
		cfg.Set = m.FeatureSet
	}
	aug := t.augmentations(cfg)
	if m != nil {
		aug = nil // scoring a model: the captures as recorded only
	}
	prog := newProgress(stderr, nil)
	cfg.Progress = prog.step
	rows, sum, err := train.LoadRows(sig.ctx, t.manifests, cp, aug, t.atEnd, prog.loading)
	prog.done()
	if sig.signal() != nil {
		return sig.report("reading the captures (no report written)")
	}
	if err != nil {
		return fail(stderr, "eval", err)
	}
	sig.setHard(true) // experiments cannot stop half-way (see runTrain)
	if sig.signal() != nil {
		return sig.report("reading the captures (no report written)")
	}
	fmt.Fprintf(stderr, "%d captures, %d flows, %d usable rows in %d session groups\n", sum.Captures, sum.Flows, len(rows), len(train.GroupsOf(rows)))
	var warning string
	if m != nil {
		if warning, err = trainingOverlap(sig.ctx, m, t.manifests); err != nil {
			return fail(stderr, "eval", err)
		}
		if warning != "" {
			fmt.Fprintf(stderr, "minerwatch eval: warning: %s\n", warning)
		}
	}
	var reps []*train.Report
	if m != nil {
		var rep *train.Report
		if rep, err = train.ScoreWithModel(rows, m, cfg); rep != nil && warning != "" {
			rep.Warnings = append(rep.Warnings, warning)
		}
		reps = []*train.Report{rep}
	} else {
		reps, err = train.Run(*exp, rows, cfg)
	}
	prog.done()
	if err != nil {
		return fail(stderr, "eval", err)
	}
	if err := writeReports(t.reportDir, "eval", reps, stdout, sig.temps); err != nil {
		return fail(stderr, "eval", err)
	}
	if *exp == train.ExpEarly {
		train.WriteByTime(stdout, reps)
	}
	return 0
}

// trainingOverlap returns a warning when the manifests' captures include
// some the model was trained on (by content), or when that cannot be
// known; "" when they are all new to it.
func trainingOverlap(ctx context.Context, m *modelfile.Model, manifests []string) (string, error) {
	trained, from, err := train.TrainingCaptures(ctx, m)
	if err != nil {
		return "", err
	}
	if trained == nil {
		return fmt.Sprintf("the model file does not list its training captures and its manifest (%s) is not here: whether these captures trained it is unknown",
			strings.Join(m.Training.Sources, ", ")), nil
	}
	evalIDs, err := train.HashCaptures(ctx, manifests)
	if err != nil {
		return "", err
	}
	return train.OverlapWarning(train.SharedCaptures(trained, evalIDs), len(evalIDs), from), nil
}
