package dataset

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/export"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// Labels, as written in the label column.
const (
	LabelMining = "mining"
	LabelBenign = "benign"
	LabelIgnore = "ignore"
)

// Label sources.
const (
	SourceManifest  = "manifest"
	SourceSignature = "signature"
)

// Row is one labelled feature row.
type Row struct {
	Capture     string // capture path as written in the manifest
	Group       string // grouped-split id (see package doc)
	Scenario    string // the capture's scenario for mining rows, "" for benign
	Label       string
	LabelSource string
	Dialect     string // signature stage's dialect when it confirmed the flow
	// Augment names the augmentation that made the row ("" for a row of
	// the capture as recorded).
	Augment string

	Kind       string
	Checkpoint time.Duration
	Window     int
	FlowID     uint64
	Client     netip.AddrPort
	Server     netip.AddrPort
	Proto      uint8
	VLAN       uint16
	FlowFirst  time.Time
	Start, End time.Time
	First      time.Time
	Last       time.Time
	UpPkts     uint32
	DownPkts   uint32
	UpBytes    uint64
	DownBytes  uint64
	// Late marks an end row the model scores: the flow ended after its
	// first checkpoint with packets its last checkpoint row did not see.
	Late bool
	X    flowfeat.Vector
	// Stages: the flow's TLS metadata and stage verdicts as of the row
	// (the feature files' TLS and stage columns).
	Stages export.Stages
}

// Positive reports whether the row is labelled mining.
func (r *Row) Positive() bool { return r.Label == LabelMining }

// Options select what rows are built.
type Options struct {
	Checkpoints flowfeat.Checkpoints
	Window      time.Duration // fixed windows too, when > 0
	// Workers is how many captures are processed at once; 0 = GOMAXPROCS.
	Workers int
	// Filter, if set, keeps only the entries it accepts.
	Filter func(e *manifest.Entry) bool
	// Augment re-reads every capture once per augmentation, adding rows
	// marked with its name.
	Augment []Augmentation
	// Done, if set, is called on Build's goroutine after each capture's
	// rows were emitted, in manifest order: for a progress line.
	Done func(e *manifest.Entry)
}

// Augmentation re-reads a capture as if every data packet had been
// wrapped in an encrypted record: its payload and IP length grow by a
// fixed overhead, its timing stays. That is what TLS or an AEAD tunnel
// does to Stratum's one-message-per-packet traffic, so a model trained on
// plaintext sessions and their augmented copies learns the shape of
// mining rather than the absence of record overhead.
type Augmentation struct {
	Name     string
	Overhead int // bytes added to every data packet
}

// DefaultAugmentations: a TLS 1.3 record (5 B header + 1 B type + 16 B
// tag), a shadowsocks AEAD chunk (2+16 B length, 16 B tag) and an SSH
// channel packet (≈48 B of length, padding and MAC).
func DefaultAugmentations() []Augmentation {
	return []Augmentation{{"tls13", 22}, {"aead", 34}, {"ssh", 48}}
}

// Summary counts what Build produced.
type Summary struct {
	Captures int
	Flows    int
	Rows     int
	ByLabel  map[string]int // rows by label
	Packets  int64
}

// GroupOf returns the grouped-split id of a capture path.
func GroupOf(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".pcapng", ".pcap"} {
		base = strings.TrimSuffix(base, ext)
	}
	if i := strings.Index(base, "_aux-"); i > 0 {
		base = base[:i]
	}
	return base
}

// Build processes every (accepted) capture of m and calls emit for each
// row, capture by capture in manifest order. An unreadable capture fails
// the build with an error naming it.
func Build(ctx context.Context, m *manifest.Manifest, o Options, emit func(*Row) error) (Summary, error) {
	sum := Summary{ByLabel: map[string]int{}}
	var entries []*manifest.Entry
	for i := range m.Entries {
		e := &m.Entries[i]
		if o.Filter == nil || o.Filter(e) {
			entries = append(entries, e)
		}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		rows    []Row
		flows   int
		packets int64
		err     error
		done    chan struct{}
	}
	results := make([]*result, len(entries))
	for i := range results {
		results[i] = &result{done: make(chan struct{})}
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	go func() {
		for i, e := range entries {
			sem <- struct{}{}
			wg.Add(1)
			go func(r *result, e *manifest.Entry) {
				defer wg.Done()
				defer func() { <-sem }()
				defer close(r.done)
				r.rows, r.flows, r.packets, r.err = buildCapture(ctx, e, o)
			}(results[i], e)
		}
	}()
	var firstErr error
	for i, r := range results {
		<-r.done
		if firstErr != nil {
			continue
		}
		if r.err != nil {
			firstErr = r.err
			continue
		}
		sum.Captures++
		sum.Flows += r.flows
		sum.Packets += r.packets
		for i := range r.rows {
			sum.Rows++
			sum.ByLabel[r.rows[i].Label]++
			if err := emit(&r.rows[i]); err != nil {
				firstErr = err
				break
			}
		}
		r.rows = nil
		if o.Done != nil && firstErr == nil {
			o.Done(entries[i])
		}
	}
	wg.Wait()
	return sum, firstErr
}

// pendingFlow holds a flow's rows until its end decides the label.
type pendingFlow struct {
	rows []Row
}

func buildCapture(ctx context.Context, e *manifest.Entry, o Options) ([]Row, int, int64, error) {
	rows, flows, packets, err := buildPass(ctx, e, o, Augmentation{})
	if err != nil {
		return nil, 0, 0, err
	}
	for _, a := range o.Augment {
		more, _, _, err := buildPass(ctx, e, o, a)
		if err != nil {
			return nil, 0, 0, err
		}
		rows = append(rows, more...)
	}
	return rows, flows, packets, nil
}

// buildPass reads the capture once, through augmentation aug (none when
// aug.Name is empty).
func buildPass(ctx context.Context, e *manifest.Entry, o Options, aug Augmentation) ([]Row, int, int64, error) {
	r, err := capture.Open(e.File)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("manifest line %d: %w", e.Line, err)
	}
	defer r.Close()
	var out []Row
	pending := map[uint64]*pendingFlow{}
	flowsSeen := 0
	cfg := engine.DefaultConfig()
	cfg.Checkpoints = o.Checkpoints
	cfg.Features = true
	group := GroupOf(e.Path)
	cfg.OnRow = func(fr *flowfeat.Row, fi *engine.FlowInfo) {
		f := fr.Flow
		p := pending[f.ID]
		if p == nil {
			p = &pendingFlow{}
			pending[f.ID] = p
			flowsSeen++
		}
		row := Row{
			Capture: e.Path, Group: group, Augment: aug.Name, Kind: fr.Kind, Checkpoint: fr.Checkpoint, Window: fr.Window,
			FlowID: f.ID, Client: f.Client, Server: f.Server, Proto: f.Proto, VLAN: f.VLAN[0],
			FlowFirst: f.First, Start: fr.Start, End: fr.End, First: fr.First, Last: fr.Last,
			UpPkts: fr.UpPkts, DownPkts: fr.DownPkts, UpBytes: fr.UpBytes, DownBytes: fr.DownBytes,
			Late: fr.Late, X: *fr.Values, Stages: fi.RowStages(),
		}
		p.rows = append(p.rows, row)
		if fr.Kind != flowfeat.KindEnd {
			return
		}
		label, source, scenario := labelFlow(e, f.Client, f.Server, fi.Dialect())
		for i := range p.rows {
			p.rows[i].Label, p.rows[i].LabelSource, p.rows[i].Scenario, p.rows[i].Dialect = label, source, scenario, fi.Dialect()
		}
		out = append(out, p.rows...)
		delete(pending, f.ID)
	}
	// Only the features see the overhead; the signature stage reads the
	// recorded conversation, so weak labels are the same in every pass.
	cfg.SizeOverhead = aug.Overhead
	eng := engine.New(cfg, func(*alert.Alert) {})
	st, err := ingest.Run(ctx, r, nil, ingest.Options{Sink: eng.Packet})
	eng.Flush()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", e.Path, err)
	}
	return out, flowsSeen, st.Capture.Records, nil
}

// labelFlow applies the manifest, then the signature stage's weak label.
func labelFlow(e *manifest.Entry, client, server netip.AddrPort, dialect string) (label, source, scenario string) {
	confirmed := dialect != ""
	if e.Label == "unknown" {
		if confirmed {
			return LabelMining, SourceSignature, "plaintext"
		}
		return LabelBenign, SourceSignature, ""
	}
	switch e.Truth(client, server) {
	case manifest.Mining:
		return LabelMining, SourceManifest, e.Scenario
	case manifest.Ignored:
		return LabelIgnore, SourceManifest, ""
	}
	if e.Label == "mixed" && confirmed {
		return LabelMining, SourceSignature, "plaintext"
	}
	return LabelBenign, SourceManifest, ""
}
