package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/export"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/filehash"
	"github.com/minerwatch/minerwatch/internal/outfile"
	"github.com/minerwatch/minerwatch/train"
	"github.com/minerwatch/minerwatch/train/dataset"
	"github.com/minerwatch/minerwatch/train/manifest"
)

func runFeatures(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("features", "(-r FILE... | --manifest M) [--set NAME] [--checkpoints LIST] -o OUT.arrow|OUT.parquet|OUT.arrows|-",
		"Extract flow features (sets mw51, mwx, seq, netflow8, decrypto12) to an Arrow IPC file, an Arrow IPC\n"+
			"stream or a Parquet file: one row per (flow, checkpoint), per fixed window with --window, and\n"+
			"per flow at its end. With --manifest, writes the labelled rows `minerwatch train` builds from\n"+
			"that manifest (label, label_source, scenario, capture, group), so training can be reproduced\n"+
			"outside Go. Each row also carries its flow's TLS ClientHello (SNI, JA3, JA4) and the signature\n"+
			"stage's state and dialect; undefined features are nulls. Rows are written in record batches\n"+
			"as they come: memory stays bounded.", stderr)
	var files multiFlag
	fs.Var(&files, "r", "capture `FILE` to read (pcap/pcapng, optionally gzip; - = standard input); repeatable, extra arguments are files too")
	filterExpr := fs.String("f", "", "read only the packets filter `EXPR` keeps, as tcpdump -r FILE EXPR (tcpdump expression with -tags libpcap, or @FILE holding 'tcpdump -ddd' output)")
	out := fs.String("o", "", "output `FILE`; the format follows the extension (.parquet, .arrows = Arrow stream, else Arrow file); - = standard output (Arrow stream); written under a temp name and renamed when complete (missing folders are created), a device or FIFO written through")
	format := fs.String("format", "", "output `FORMAT`: arrow, arrows (IPC stream) or parquet (default: from -o's extension)")
	manifestPath := fs.String("manifest", "", "dataset manifest `FILE` (TSV): write its labelled rows, as 'train' builds them, instead of reading -r files")
	trainRows := fs.Bool("train-rows", false, "with --manifest: keep only the rows 'train' fits on (TCP checkpoint rows ≤ 3600 s, not labelled ignore)")
	sets := fs.String("set", "all", "feature `SETS`, comma-separated: mw51, mwx, seq, netflow8, decrypto12 or all")
	cps := fs.String("checkpoints", flowfeat.DefaultCheckpoints().String(), "cumulative checkpoints in seconds; a last +N repeats every N s; 'none' for no checkpoint rows (with --manifest the default is train's: "+flowfeat.ModelCheckpoints().String()+")")
	window := fs.Duration("window", 0, "also emit a row per fixed window of this length (e.g. 60s); 0 = off")
	noEnd := fs.Bool("no-end-rows", false, "do not emit the whole-flow row at each flow's end")
	each := fs.Bool("each", false, "process each file on its own (separate flow tables) instead of merging them in time order")
	modelPath := fs.String("model", "", "also score each TCP checkpoint row with a flow classifier (the model_score column): `MODEL` file, or 'default' for the shipped model; with -r only")
	list := fs.Bool("list", false, "print the feature table and exit")
	markdown := fs.Bool("markdown", false, "with --list: print the table as Markdown (the README's table)")
	ftc := flowFlags(fs)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	setList, err := flowfeat.ParseSets(*sets)
	if err != nil {
		return fail(stderr, "features", err)
	}
	if *list {
		if *markdown {
			fmt.Fprint(stdout, flowfeat.MarkdownTable(setList))
			return 0
		}
		for _, s := range setList {
			for _, d := range flowfeat.Defs(s) {
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", d.Set, d.Name, d.Unit, d.Direction, d.Definition)
			}
		}
		return 0
	}
	files = append(files, fs.Args()...)
	if *manifestPath != "" && len(files) > 0 {
		return fail(stderr, "features", errors.New("--manifest and -r are mutually exclusive (the manifest names the captures)"))
	}
	if *manifestPath == "" && len(files) == 0 {
		return fail(stderr, "features", errors.New("no capture given (use -r FILE or --manifest M)"))
	}
	if *manifestPath == "" && *trainRows {
		return fail(stderr, "features", errors.New("--train-rows needs --manifest"))
	}
	if *manifestPath != "" && *modelPath != "" {
		// A manifest's rows are training rows: scoring them with a model
		// trained on them would look like a result and mean nothing.
		return fail(stderr, "features", errors.New("--model scores -r captures; it cannot be used with --manifest"))
	}
	var scorer engine.Scorer
	if *modelPath != "" {
		path := *modelPath
		if path == "default" {
			path = "" // loadScorer's shipped model
		}
		sc, err := loadScorer(path)
		if err != nil {
			return fail(stderr, "features", err)
		}
		scorer = sc
	}
	if *out == "" {
		return fail(stderr, "features", errors.New("no output given (use -o OUT.arrow)"))
	}
	ofmt := export.FormatOf(*out)
	if *out == "-" {
		ofmt = export.FormatArrowStream // a pipe cannot be seeked back for a footer-first reader
	}
	if *format != "" {
		if ofmt, err = export.ParseFormat(*format); err != nil {
			return fail(stderr, "features", err)
		}
	}
	cp, err := flowfeat.ParseCheckpoints(*cps)
	if err != nil {
		return fail(stderr, "features", err)
	}
	if *window < 0 {
		return badFlag(stderr, "features", errors.New("--window must not be negative"))
	}
	fcfg, err := ftc()
	if err != nil {
		return badFlag(stderr, "features", err)
	}
	var filter *recordFilter
	if *filterExpr != "" {
		if *manifestPath != "" {
			return badFlag(stderr, "features", errors.New("-f cannot be used with --manifest (its rows are those `train` builds)"))
		}
		if filter, err = newRecordFilter(*filterExpr); err != nil {
			return badFlag(stderr, "features", err)
		}
	}
	sig := watchSignals("features", stderr)
	defer sig.stop()
	o := featureOutput{path: *out, format: ofmt, stdout: stdout, inputs: files, temps: sig.temps}
	// A bad -o (a directory, one of the captures) fails before any work.
	if err := outfile.Check(*out, o.options()); err != nil {
		return fail(stderr, "features", err)
	}
	if *manifestPath != "" {
		// The labelled rows are exactly train's: its engine, its flow
		// table, its labelling. Flags that would make them differ are
		// refused rather than silently ignored.
		var bad []string
		cpSet := false
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "checkpoints":
				cpSet = true
			case "window", "no-end-rows", "each", "idle-timeout", "udp-timeout", "active-timeout", "max-flows":
				bad = append(bad, "--"+f.Name)
			}
		})
		if len(bad) > 0 {
			return fail(stderr, "features", fmt.Errorf("%s cannot be used with --manifest (its rows are those `train` builds)", strings.Join(bad, ", ")))
		}
		if !cpSet {
			cp = flowfeat.ModelCheckpoints() // train's schedule, unless asked otherwise
		}
		return featuresFromManifest(sig, *manifestPath, setList, cp, *trainRows, o, stderr)
	}
	// Open every input, once (a FIFO can be read only once), before
	// writing anything: a file that cannot be read is reported and left
	// out, and when none can, nothing is written.
	groups := [][]string{files}
	if *each {
		groups = nil
		for _, f := range files {
			groups = append(groups, []string{f})
		}
	}
	var (
		readers     []*capture.Reader
		inputs      []export.Input
		openErrs    []error
		inputFailed bool
	)
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	for _, g := range groups {
		r, err := capture.Open(g...)
		if err != nil {
			openErrs = append(openErrs, err)
			continue
		}
		readers = append(readers, r)
		if filter != nil {
			r.SetFilter(filter.keep)
		}
		bad := map[int]bool{}
		for _, err := range r.Errs() {
			var fe *capture.FileError
			if errors.As(err, &fe) {
				bad[fe.Index] = true
			}
		}
		for i, f := range g {
			if bad[i] {
				continue
			}
			in, err := describeInput(sig.ctx, f, f)
			if sig.signal() != nil {
				return sig.report("hashing " + f + " (no output written)")
			}
			if err != nil {
				return fail(stderr, "features", err)
			}
			inputs = append(inputs, in)
		}
	}
	if len(readers) == 0 {
		return fail(stderr, "features", errors.Join(openErrs...))
	}
	for _, err := range openErrs {
		fmt.Fprintf(stderr, "minerwatch features: %v (skipped; the other inputs were read)\n", err)
		inputFailed = true
	}
	w, err := o.create(export.Meta{
		Version: version, Sets: setList, Inputs: inputs, Checkpoints: cp.String(),
		Window: *window, FlowTable: fcfg, Created: createdTime(),
	})
	if err != nil {
		return fail(stderr, "features", err)
	}
	tcfg := flowfeat.TrackerConfig{Checkpoints: cp, Window: *window, NoEndRow: *noEnd}
	var total ingest.Stats
	for _, r := range readers {
		st, failed, err := extractFeatures(sig.ctx, r, fcfg, tcfg, scorer, w, stderr)
		total.Capture.Records += st.Capture.Records
		total.Capture.Filtered += st.Capture.Filtered
		total.Flows.FlowsCreated += st.Flows.FlowsCreated
		total.Flows.Evicted += st.Flows.Evicted
		total.Defrag.Add(st.Defrag)
		if sig.signal() != nil {
			// An interrupted export is not complete: it is not renamed
			// into place (a file at -o stays as it was).
			w.Abort()
			return sig.report(fmt.Sprintf("%d packets (no output written)", total.Capture.Records))
		}
		if err != nil {
			w.Abort()
			return fail(stderr, "features", err)
		}
		inputFailed = inputFailed || failed
	}
	if err := w.Close(); err != nil {
		return fail(stderr, "features", err)
	}
	fmt.Fprintf(stderr, "%d packets, %d flows, %d rows → %s (%s)\n", total.Capture.Records, total.Flows.FlowsCreated, w.Rows(), o.name(), ofmt)
	if filter != nil {
		fmt.Fprintf(stderr, "%d packets left out by -f\n", total.Capture.Filtered)
		if w := filter.report(); w != "" {
			fmt.Fprintf(stderr, "minerwatch features: warning: %s\n", w)
		}
	}
	reportCapped(stderr, "features", total.Flows.Drops(), total.Defrag.Drops())
	if inputFailed {
		return 1
	}
	return 0
}

// featureOutput is where the rows go: a file (written atomically, see
// internal/outfile), a device or FIFO (written through), or standard
// output.
type featureOutput struct {
	path   string
	format export.Format
	stdout io.Writer
	inputs []string // refused as the output
	temps  *outfile.Temps
}

func (o featureOutput) options() outfile.Options {
	return outfile.Options{Inputs: o.inputs, Stdout: o.stdout, Temps: o.temps}
}

func (o featureOutput) name() string {
	if o.path == "-" {
		return "standard output"
	}
	return o.path
}

func (o featureOutput) create(meta export.Meta) (*export.Writer, error) {
	if o.path == "-" {
		return export.NewWriter(o.stdout, o.name(), o.format, meta)
	}
	out, err := outfile.Create(o.path, o.options())
	if err != nil {
		return nil, err
	}
	return export.CreateOutput(out, o.format, meta)
}

// trainRowsRule states train.Usable in the terms of the file's columns
// (a pandas query), so a reader can select the training rows of a full
// export.
func trainRowsRule() string {
	return fmt.Sprintf("window_kind == 'checkpoint' and checkpoint_s <= %g and label != 'ignore' and proto == 6", train.MaxCheckpoint.Seconds())
}

// featuresFromManifest writes the labelled rows dataset.Build makes from a
// manifest — the rows `train` uses — with the manifest's captures (and
// their hashes) as the file's inputs.
func featuresFromManifest(sig *interruption, path string, sets []string, cp flowfeat.Checkpoints, onlyTrain bool, o featureOutput, stderr io.Writer) int {
	m, err := manifest.Load(path)
	if err != nil {
		return fail(stderr, "features", err)
	}
	if len(m.Entries) == 0 {
		return fail(stderr, "features", fmt.Errorf("%s: no captures listed", path))
	}
	o.inputs = []string{path}
	for _, e := range m.Entries {
		o.inputs = append(o.inputs, e.File)
	}
	if err := outfile.Check(o.path, o.options()); err != nil {
		return fail(stderr, "features", err)
	}
	mIn, err := describeInput(sig.ctx, path, filepath.Base(path))
	if err != nil {
		return fail(stderr, "features", err)
	}
	// Hashing every capture first also fails fast on a missing file,
	// before anything is written.
	var inputs []export.Input
	for _, e := range m.Entries {
		in, err := describeInput(sig.ctx, e.File, e.Path)
		if sig.signal() != nil {
			return sig.report("hashing " + e.File + " (no output written)")
		}
		if err != nil {
			return fail(stderr, "features", fmt.Errorf("manifest line %d: %w", e.Line, err))
		}
		inputs = append(inputs, in)
	}
	manifestJSON, err := json.Marshal(mIn)
	if err != nil {
		return fail(stderr, "features", fmt.Errorf("encode manifest metadata: %w", err))
	}
	rowsKept := "all"
	if onlyTrain {
		rowsKept = "train"
	}
	w, err := o.create(export.Meta{
		Version: version, Sets: sets, Inputs: inputs, Checkpoints: cp.String(),
		FlowTable:    engine.DefaultConfig().Flows,
		LabelSources: []string{dataset.SourceManifest, dataset.SourceSignature},
		Created:      createdTime(),
		Extra: map[string]string{
			"manifest":   string(manifestJSON),
			"rows":       rowsKept,
			"train_rows": trainRowsRule(),
		},
	})
	if err != nil {
		return fail(stderr, "features", err)
	}
	byLabel := map[string]int{}
	sum, err := dataset.Build(sig.ctx, m, dataset.Options{Checkpoints: cp}, func(r *dataset.Row) error {
		if onlyTrain && !train.Usable(r) {
			return nil
		}
		byLabel[r.Label]++
		x := r.X
		return w.WriteRow(&export.Row{
			FlowID: r.FlowID, Client: r.Client, Server: r.Server, Proto: r.Proto, VLAN: r.VLAN,
			FlowFirst: r.FlowFirst, Kind: r.Kind, Checkpoint: r.Checkpoint, Window: r.Window,
			Start: r.Start, End: r.End, First: r.First, Last: r.Last,
			UpPkts: uint64(r.UpPkts), DownPkts: uint64(r.DownPkts), UpBytes: r.UpBytes, DownBytes: r.DownBytes,
			Values: &x,
			Labels: export.Labels{Capture: r.Capture, Group: r.Group, Scenario: r.Scenario, Label: r.Label, LabelSource: r.LabelSource, Stages: r.Stages},
		})
	})
	if sig.signal() != nil {
		w.Abort()
		return sig.report(fmt.Sprintf("%d rows (no output written)", w.Rows()))
	}
	if err != nil {
		w.Abort()
		return fail(stderr, "features", err)
	}
	if err := w.Close(); err != nil {
		return fail(stderr, "features", err)
	}
	fmt.Fprintf(stderr, "%d captures, %d packets, %d flows, %d rows (mining %d, benign %d, ignore %d) → %s (%s)\n",
		sum.Captures, sum.Packets, sum.Flows, w.Rows(), byLabel[dataset.LabelMining], byLabel[dataset.LabelBenign],
		byLabel[dataset.LabelIgnore], o.name(), o.format)
	return 0
}

// createdTime is the creation time recorded in outputs: now, or
// SOURCE_DATE_EPOCH (reproducible-builds.org) when set, so the same inputs
// give byte-identical files.
func createdTime() time.Time {
	if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		return time.Unix(v, 0).UTC()
	}
	return time.Now().UTC()
}

// extractFeatures runs one detection engine (features on, intel off, the
// model only if given) over the files of r and writes its rows, each with
// its flow's TLS metadata, signature-stage verdict and model score; failed
// reports whether a file of r could not be read.
func extractFeatures(ctx context.Context, r *capture.Reader, fcfg flows.Config, tcfg flowfeat.TrackerConfig, model engine.Scorer, w *export.Writer, stderr io.Writer) (st ingest.Stats, failed bool, err error) {
	// A failed write (a full disk) stops reading at once: the export is
	// lost either way, and the operator should not wait for the input's end.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var writeErr error
	file := 0
	names := map[int]string{}
	cfg := engine.DefaultConfig()
	cfg.Flows = fcfg
	cfg.Checkpoints, cfg.Window, cfg.NoEndRow = tcfg.Checkpoints, tcfg.Window, tcfg.NoEndRow
	cfg.Features = true
	cfg.Model = model // nil: model_score stays null
	cfg.Capture = func() string {
		n, ok := names[file]
		if !ok {
			n = captureName(r.Path(file))
			names[file] = n
		}
		return n
	}
	cfg.OnRow = func(row *flowfeat.Row, fi *engine.FlowInfo) {
		if writeErr != nil {
			return
		}
		if writeErr = w.Write(row, export.Labels{Capture: fi.Capture(), Group: fi.Capture(), Stages: fi.RowStages()}); writeErr != nil {
			stop()
		}
	}
	eng := engine.New(cfg, func(*alert.Alert) {})
	progress := newProgress(stderr, r)
	st, err = ingest.Run(ctx, r, nil, ingest.Options{
		OnPacket:      func(rec *capture.Record, _ *packet.Packet) { file = rec.File },
		Sink:          eng.Packet,
		SkipBadFiles:  true,
		Progress:      func(s *ingest.Stats) { progress.update(s.Capture.Records, eng.FlowsCreated()) },
		ProgressEvery: progressEvery,
	})
	if err == nil {
		eng.Flush() // the flows' end rows
	}
	progress.done()
	st.Flows = eng.Stats().Flows
	st.Capture = r.Stats() // also when interrupted, for the report
	failed = reportInputs(stderr, "features", r)
	if writeErr != nil {
		err = writeErr // not the cancellation it caused
	}
	return st, failed, err
}

// describeInput hashes a file for the export's provenance record; name is
// how the record names it (the manifest's relative path, not this
// machine's). A FIFO or pipe (`-r <(zcat x.pcap.gz)`) can be read only
// once, by the capture reader: it is recorded by name only, without hash.
func describeInput(ctx context.Context, path, name string) (export.Input, error) {
	if path == capture.Stdin {
		return export.Input{Path: "(standard input)"}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return export.Input{}, fmt.Errorf("open capture: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return export.Input{Path: name}, nil
	}
	sum, n, err := filehash.SHA256(ctx, path)
	if err != nil {
		return export.Input{}, fmt.Errorf("hash capture: %w", err)
	}
	return export.Input{Path: name, SHA256: sum, Bytes: n}, nil
}
