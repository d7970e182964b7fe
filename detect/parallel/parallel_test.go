package parallel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/parallel"
	"github.com/minerwatch/minerwatch/detect/score"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
)

// config is `detect --no-learned`'s engine: the default intel list, a
// learned list in memory, and the shipped model. Each run gets its own intel, so one
// run's learning does not leak into the next.
func config(t testing.TB) engine.Config {
	in, _, err := intel.Load(intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel = in
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model, err = score.New(m, defaultmodel.ID); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func names(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}

// oneEngine is the existing offline path (cmd/minerwatch detectFiles
// without --workers): ingest into one engine, then flush.
func oneEngine(t testing.TB, paths []string) []string {
	r, err := capture.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines []string
	current := ""
	cfg := config(t)
	cfg.Capture = func() string { return current }
	eng := engine.New(cfg, func(a *alert.Alert) { lines = append(lines, encode(t, a)) })
	if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{Sink: eng.Packet, SkipBadFiles: true,
		OnPacket: func(rec *capture.Record, _ *packet.Packet) { current = filepath.Base(r.Path(rec.File)) }}); err != nil {
		t.Fatal(err)
	}
	eng.Flush()
	return lines
}

func runParallel(t testing.TB, paths []string, workers, epoch int) ([]string, parallel.Stats) {
	r, err := capture.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines []string
	st, _, err := parallel.Run(context.Background(), r, parallel.Config{Engine: config(t), Workers: workers,
		Names: names(paths), EpochPackets: epoch, SkipBadFiles: true},
		func(a *alert.Alert) error { lines = append(lines, encode(t, a)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return lines, st
}

func encode(t testing.TB, a *alert.Alert) string {
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWorkersWriteOneEnginesAlerts: on the lab mining captures merged in
// time order (many flows, fragments, time-outs between captures) and on
// each shipped sample, 1, 2 and 3 workers write exactly the alerts of one
// engine, byte for byte and in the same order, flow IDs included. Small
// epochs make the workers cross many merge points.
func TestWorkersWriteOneEnginesAlerts(t *testing.T) {
	root := shareddata.Require(t)
	lab, _ := filepath.Glob(filepath.Join(root, "lab", "mining", "*.pcap"))
	samples, _ := filepath.Glob(filepath.Join("..", "..", "datasets", "samples", "*.pcap"))
	cases := [][]string{lab}
	for _, s := range samples {
		cases = append(cases, []string{s})
	}
	for _, paths := range cases {
		if len(paths) == 0 {
			t.Fatal("no captures found")
		}
		want := oneEngine(t, paths)
		if len(want) == 0 && len(paths) > 1 {
			t.Fatalf("%s: one engine raised no alert; the comparison would prove nothing", paths[0])
		}
		for _, w := range []int{1, 2, 3} {
			for _, epoch := range []int{0, 97} {
				got, st := runParallel(t, paths, w, epoch)
				if !slices.Equal(got, want) {
					t.Errorf("%s…: %d workers, epoch %d: alerts differ from one engine's (%d vs %d lines)\n%s",
						filepath.Base(paths[0]), w, epoch, len(got), len(want), firstDiff(got, want))
				}
				if w > 1 && len(paths) > 1 && slices.Contains(st.WorkerPackets, 0) { // a sample is one flow
					t.Errorf("%d workers: a worker got no packet %v: the flow hash does not spread", w, st.WorkerPackets)
				}
			}
		}
	}
}

// TestWorkersAgreeOnPublicCaptures: on public mining captures with
// thousands of flows, learned pools and timestamps that repeat and run
// backwards, 1, 2 and 3 workers write the same lines in the same order,
// and the same lines as one engine, learned-pool alerts included, but for
// one documented difference: the order of flows that end together with
// one timestamp in one of the table's LRU lists (the workers order those
// by flow ID; one engine by the LRU order no worker sees), so against one
// engine the lines are compared as sets.
func TestWorkersAgreeOnPublicCaptures(t *testing.T) {
	root := shareddata.Require(t)
	for _, name := range []string{
		"jsiwek_zeek-cryptomining__bitcoin-mining.pcap",
		"nesfit_DI-cryptominingdetection__cgminer.g0.pcapng",
		// Two flows flushed with one timestamp, which one worker's
		// table or two workers' tables hold, as the seed spreads them.
		"nesfit_DI-cryptominingdetection__cgminer.g2.pcapng",
	} {
		paths := []string{filepath.Join(root, "public", "mining", name)}
		one := oneEngine(t, paths)
		slices.Sort(one)
		var first []string
		// The flow hash's seed is random: several runs per worker count
		// spread the flows in several ways.
		for _, w := range []int{1, 2, 3, 2, 3, 2, 3} {
			got, _ := runParallel(t, paths, w, 0)
			if first == nil {
				first = got
			} else if !slices.Equal(got, first) {
				t.Errorf("%s: %d workers write other alerts than 1 worker (%d vs %d lines)\n%s", name, w, len(got), len(first), firstDiff(got, first))
			}
			got = slices.Clone(got)
			slices.Sort(got)
			if !slices.Equal(got, one) {
				t.Errorf("%s, %d workers: alerts differ from one engine's (%d vs %d lines)\n%s", name, w, len(got), len(one), firstDiff(got, one))
			}
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d:", i+1) + "\n got " + trunc(got[i]) + "\nwant " + trunc(want[i])
		}
	}
	return "one is a prefix of the other"
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// TestOutputErrorStopsTheRun: a failing alert sink (a full disk) is
// returned, and the run still ends (no worker left blocked).
func TestOutputErrorStopsTheRun(t *testing.T) {
	root := shareddata.Require(t)
	lab, _ := filepath.Glob(filepath.Join(root, "lab", "mining", "*.pcap"))
	r, err := capture.Open(lab...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	full := bytes.ErrTooLarge
	calls := 0
	_, _, err = parallel.Run(context.Background(), r, parallel.Config{Engine: config(t), Workers: 2, EpochPackets: 64},
		func(*alert.Alert) error { calls++; return full })
	if err != full || calls != 1 {
		t.Fatalf("err %v after %d calls, want %v after 1", err, calls, full)
	}
}

// TestCancelledRunStillFlushes: an interrupted run (SIGINT: ctx ends)
// stops reading, still ends every open flow — the miner's flow gets its
// final "flow" event — and returns without leaving a goroutine blocked.
func TestCancelledRunStillFlushes(t *testing.T) {
	r, err := capture.Open("../../datasets/samples/xmrig-plain-3333.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var events []string
	st, _, err := parallel.Run(ctx, r, parallel.Config{Engine: config(t), Workers: 2, EpochPackets: 16},
		func(a *alert.Alert) error {
			events = append(events, a.EventType)
			cancel() // the first alert interrupts the run
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	// The reader checks ctx at each epoch it hands out; it is at most
	// Depth+2 epochs (10 × 16 packets) ahead of the merger.
	if n := st.Capture.Records; n >= 200 {
		t.Errorf("read %d records after the interruption at the first alert", n)
	}
	if !slices.Equal(events, []string{alert.EventAlert, alert.EventFlow}) {
		t.Errorf("events %v, want the alert then the flushed flow's flow event", events)
	}
	if st.Engine.Flows.Active != 0 {
		t.Errorf("%d flows left open", st.Engine.Flows.Active)
	}
}

// TestWorkersWriteSealedLinesAsOneEngine: the workers encode their alerts
// (alert.SealAppend) into a buffer recycled with the epoch and, past its
// bound, as in a burst of time-outs when the capture's clock jumps, into
// spill chunks; the writer then writes those lines as they are. Through
// alert.Writer (which json.Marshal in the other tests does not go
// through), on the lab mining captures: the bytes one engine writes, with
// the default bound and with a bound of one byte (every alert but an
// epoch's first spills).
func TestWorkersWriteSealedLinesAsOneEngine(t *testing.T) {
	root := shareddata.Require(t)
	paths, _ := filepath.Glob(filepath.Join(root, "lab", "mining", "*.pcap"))
	if len(paths) == 0 {
		t.Fatal("no captures found")
	}
	// One engine's lines as its writer writes them (json.Marshal gives
	// the writer's bytes: alert.Writer.Write).
	var want bytes.Buffer
	for _, line := range oneEngine(t, paths) {
		want.WriteString(line + "\n")
	}
	if want.Len() == 0 {
		t.Fatal("one engine raised no alert: the comparison would prove nothing")
	}
	for _, bound := range []int{0, 1} {
		for _, w := range []int{2, 3} {
			r, err := capture.Open(paths...)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			gw := alert.NewWriter(&got, nil)
			cfg := parallel.WithMaxLines(parallel.Config{Engine: config(t), Workers: w, Names: names(paths), EpochPackets: 97}, bound)
			if _, _, err := parallel.Run(context.Background(), r, cfg, gw.Write); err != nil {
				t.Fatal(err)
			}
			r.Close()
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("bound %d, %d workers: the written lines differ from one engine's (%d vs %d bytes)\n%s", bound, w, got.Len(), want.Len(),
					firstDiff(strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")))
			}
		}
	}
}
