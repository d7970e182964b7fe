package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/export"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
)

func runFeatures(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("features", "-r FILE... [--set NAME] [--checkpoints LIST] -o OUT.arrow",
		"Extract flow features (sets mw51, netflow8, decrypto12) to an Arrow IPC file: one row per\n(flow, checkpoint), per fixed window with --window, and per flow at its end.", stderr)
	var files multiFlag
	fs.Var(&files, "r", "capture file to read (pcap/pcapng, optionally gzip); repeatable, extra arguments are files too")
	out := fs.String("o", "", "output Arrow IPC file (required unless --list)")
	sets := fs.String("set", "all", "feature sets, comma-separated: mw51, netflow8, decrypto12 or all")
	cps := fs.String("checkpoints", flowfeat.DefaultCheckpoints().String(), "cumulative checkpoints in seconds; a last +N repeats every N s; 'none' for no checkpoint rows")
	window := fs.Duration("window", 0, "also emit a row per fixed window of this length (e.g. 60s); 0 = off")
	noEnd := fs.Bool("no-end-rows", false, "do not emit the whole-flow row at each flow's end")
	each := fs.Bool("each", false, "process each file on its own (separate flow tables) instead of merging them in time order")
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
	if len(files) == 0 {
		return fail(stderr, "features", errors.New("no capture given (use -r FILE)"))
	}
	if *out == "" {
		return fail(stderr, "features", errors.New("no output given (use -o OUT.arrow)"))
	}
	cp, err := flowfeat.ParseCheckpoints(*cps)
	if err != nil {
		return fail(stderr, "features", err)
	}
	if *window < 0 {
		return fail(stderr, "features", errors.New("--window must not be negative"))
	}
	fcfg, err := ftc()
	if err != nil {
		return fail(stderr, "features", err)
	}
	// Open every input before writing anything, so a bad file fails fast.
	var inputs []export.Input
	for _, f := range files {
		in, err := describeInput(f)
		if err != nil {
			return fail(stderr, "features", err)
		}
		inputs = append(inputs, in)
	}
	if r, err := capture.Open(files...); err != nil {
		return fail(stderr, "features", err)
	} else {
		r.Close()
	}
	w, err := export.Create(*out, export.Meta{
		Version: version, Sets: setList, Inputs: inputs, Checkpoints: cp.String(),
		Window: *window, FlowTable: fcfg,
	})
	if err != nil {
		return fail(stderr, "features", err)
	}
	tcfg := flowfeat.TrackerConfig{Checkpoints: cp, Window: *window, NoEndRow: *noEnd}
	groups := [][]string{files}
	if *each {
		groups = nil
		for _, f := range files {
			groups = append(groups, []string{f})
		}
	}
	var total ingest.Stats
	for _, g := range groups {
		st, err := extractFeatures(g, fcfg, tcfg, w, stderr)
		if err != nil {
			w.Abort()
			return fail(stderr, "features", err)
		}
		total.Capture.Records += st.Capture.Records
		total.Flows.FlowsCreated += st.Flows.FlowsCreated
	}
	if err := w.Close(); err != nil {
		return fail(stderr, "features", err)
	}
	fmt.Fprintf(stderr, "%d packets, %d flows, %d rows → %s\n", total.Capture.Records, total.Flows.FlowsCreated, w.Rows(), *out)
	return 0
}

// extractFeatures runs one flow table over files and writes its rows.
func extractFeatures(files []string, fcfg flows.Config, tcfg flowfeat.TrackerConfig, w *export.Writer, stderr io.Writer) (ingest.Stats, error) {
	r, err := capture.Open(files...)
	if err != nil {
		return ingest.Stats{}, err
	}
	defer r.Close()
	var writeErr error
	obs := &featureObserver{}
	obs.tracker = flowfeat.NewTracker(tcfg, func(row *flowfeat.Row) {
		if writeErr != nil {
			return
		}
		st := row.Flow.Data.(*featureFlow)
		writeErr = w.Write(row, export.Labels{Capture: filepath.Base(files[st.file]), Group: filepath.Base(files[st.file])})
	})
	t := flows.NewTable(fcfg, obs)
	st, err := ingest.Run(context.Background(), r, t, ingest.Options{
		OnPacket: func(rec *capture.Record, _ *packet.Packet) { obs.file = rec.File },
	})
	for _, warn := range r.Warnings {
		fmt.Fprintf(stderr, "minerwatch features: warning: %s\n", warn)
	}
	if err == nil {
		err = writeErr
	}
	return st, err
}

type featureFlow struct {
	feat *flowfeat.State
	file int
}

// featureObserver feeds every flow's packets to a feature tracker.
type featureObserver struct {
	tracker *flowfeat.Tracker
	file    int
}

func (o *featureObserver) FlowStarted(f *flows.Flow) {
	f.Data = &featureFlow{feat: o.tracker.Start(f), file: o.file}
}
func (o *featureObserver) Packet(f *flows.Flow, p *packet.Packet, dir packet.Direction) {
	o.tracker.Packet(f.Data.(*featureFlow).feat, f, p, dir)
}
func (o *featureObserver) ActiveRecord(*flows.Record) {}
func (o *featureObserver) FlowEnded(f *flows.Flow, _ flows.EndReason) {
	o.tracker.End(f.Data.(*featureFlow).feat, f)
}

// describeInput hashes a capture file for the export's provenance record.
func describeInput(path string) (export.Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return export.Input{}, fmt.Errorf("open capture: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return export.Input{}, fmt.Errorf("read %s: %w", path, err)
	}
	return export.Input{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

var _ = time.Second
