package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/online"
	"github.com/minerwatch/minerwatch/detect/parallel"
	"github.com/minerwatch/minerwatch/detect/score"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/outfile"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/models/modelfile"
)

// detectOptions are the parsed flags of `minerwatch detect`.
type detectOptions struct {
	files       []string
	out         string
	summary     bool
	intelFiles  multiFlag
	allowFiles  multiFlag
	noDefault   bool
	learned     string
	noLearned   bool
	checkpoints string
	scoreAtEnd  bool
	modelPath   string
	noModel     bool
	flowCfg     flows.Config
	stats       bool
	live        liveOptions // online path: -i / --realtime (detect_live.go)
	sensor      alert.Sensor
	eveTypes    alert.Types
	kafka       kafkaOptions // --kafka* (detect_kafka.go)
	probe       probeOptions // --probe flags (probe.go)
}

func runDetect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("detect", "(-r FILE... | -i IFACE) [flags]",
		"Find mining connections in capture files, or live on a mirrored interface (see README,\n\"Online mode\"): threat intelligence (pool addresses, DNS, TLS SNI), the Stratum signature\nstate machine, and the flow classifier. Events are Suricata EVE JSON lines: an \"alert\"\nper detection, written as soon as a flow is decided, and a \"flow\" event with the final\nshare counts when a mining flow ends; minerwatch's own fields are under \"minerwatch\".\nSignature ids: 'minerwatch rules'.", stderr)
	var o detectOptions
	var files multiFlag
	fs.Var(&files, "r", "capture `FILE` to read (pcap/pcapng, optionally gzip; - = standard input); repeatable, extra arguments are files too")
	fs.StringVar(&o.out, "o", "", "append alerts to `FILE` (created 0640, never truncated; a device or FIFO is written through; default: stdout)")
	fs.BoolVar(&o.summary, "summary", false, "print a per-host table at the end (to stderr when alerts go to stdout)")
	fs.Var(&o.intelFiles, "intel", "extra intel list `FILE` (plain, hosts, Maltrail, CSV; \"format:path\" to force a format); repeatable")
	fs.Var(&o.allowFiles, "allow", "allowlist `FILE`; wins over every list; repeatable")
	fs.BoolVar(&o.noDefault, "no-default-intel", false, "do not load the shipped default intel list")
	fs.StringVar(&o.learned, "learned", "", "learned pool list `FILE`, loaded at start and saved at end (default: "+intel.DefaultLearnedPath()+" with -i; none with -r)")
	fs.BoolVar(&o.noLearned, "no-learned", false, "keep the learned list in memory only (neither load nor save it)")
	fs.StringVar(&o.modelPath, "model", "", "flow classifier model `FILE` (default: the model shipped in the binary)")
	fs.BoolVar(&o.noModel, "no-model", false, "do not score flows with the flow classifier (stage 2)")
	fs.StringVar(&o.checkpoints, "checkpoints", flowfeat.ModelCheckpoints().String(), "when the flow classifier scores a flow (seconds; last +N repeats)")
	fs.BoolVar(&o.scoreAtEnd, "score-at-end", false, "also score a flow that ends between checkpoints at its end (a miner reconnecting every few minutes); off by default, see README \"Early verdicts\"")
	fs.BoolVar(&o.stats, "stats", false, "print pipeline counters at the end (stderr)")
	host, _ := os.Hostname()
	fs.StringVar(&o.sensor.Host, "sensor-name", host, "sensor name, written as the events' \"host\" field")
	seed := fs.Uint("community-id-seed", 0, "Community ID seed (0-65535; the one your Zeek/Suricata sensors use)")
	eveTypes := fs.String("eve-types", "alert,flow,intel_summary", "event `TYPES` to write, comma-separated: alert, flow (EVE types), intel_summary (ours: folded intel floods)")
	ftc := flowFlags(fs)
	liveFlags(fs, &o.live)
	kafkaFlags(fs, &o.kafka)
	probeFlags(fs, &o.probe)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if err := o.probe.check(); err != nil {
		return badFlag(stderr, "detect", err)
	}
	o.files = append(files, fs.Args()...)
	if err := o.kafka.finish(fs); err != nil {
		return badFlag(stderr, "detect", err)
	}
	if len(o.files) == 0 && !o.live.online() {
		return fail(stderr, "detect", errors.New("no capture given (use -r FILE or -i IFACE)"))
	}
	var err error
	if o.flowCfg, err = ftc(); err != nil {
		return badFlag(stderr, "detect", err)
	}
	if *seed > 0xffff {
		return badFlag(stderr, "detect", fmt.Errorf("--community-id-seed %d: want 0-65535", *seed))
	}
	o.sensor.CommunityIDSeed = uint16(*seed)
	if o.eveTypes, err = alert.ParseTypes(*eveTypes); err != nil {
		return badFlag(stderr, "detect", fmt.Errorf("--eve-types: %w", err))
	}
	if err := o.live.check(o.out); err != nil {
		return badFlag(stderr, "detect", err)
	}
	if o.live.online() {
		return detectLive(o, stdout, stderr)
	}
	return detectFiles(o, stdout, stderr)
}

// detectSetup is what both the offline and the live paths need: the
// loaded intelligence and an engine configuration (without output hooks).
type detectSetup struct {
	intel  *intel.Intel
	engine engine.Config
}

// setupDetect loads intel (and, once wired, the model) and builds the engine
// configuration from the flags. Warnings go to stderr.
func setupDetect(o detectOptions, stderr io.Writer) (*detectSetup, error) {
	cp, err := flowfeat.ParseCheckpoints(o.checkpoints)
	if err != nil {
		return nil, err
	}
	learnedPath := o.learned
	// A probe on a live link keeps what it learned across restarts; an
	// offline run does not inherit pools from unrelated captures (two
	// networks may reuse the same private addresses) unless asked to.
	if learnedPath == "" && o.live.iface != "" {
		learnedPath = intel.DefaultLearnedPath()
	}
	if o.noLearned {
		learnedPath = ""
	}
	in, warns, err := intel.Load(intel.Options{NoDefault: o.noDefault, Lists: o.intelFiles, Allow: o.allowFiles, LearnedPath: learnedPath})
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "minerwatch detect: warning: %s\n", w)
	}
	cfg := engine.DefaultConfig()
	cfg.Flows = o.flowCfg
	cfg.Intel = in
	cfg.Checkpoints = cp
	cfg.ScoreAtEnd = o.scoreAtEnd
	cfg.Sensor = o.sensor
	cfg.Sensor.Live = o.live.iface != ""
	if !o.noModel {
		sc, err := loadScorer(o.modelPath)
		if err != nil {
			return nil, err
		}
		cfg.Model = sc
	}
	return &detectSetup{intel: in, engine: cfg}, nil
}

// loadScorer loads the model at path, or the shipped default, and checks
// its feature schema against this build's extractor.
func loadScorer(path string) (*score.Scorer, error) {
	var m *modelfile.Model
	var err error
	id := defaultmodel.ID
	if path != "" {
		m, err = modelfile.Load(path)
		id = filepath.Base(path)
	} else {
		m, err = defaultmodel.Load()
	}
	if err != nil {
		return nil, err
	}
	return score.New(m, id)
}

// alertFlushEvery is how late detect -r writes an alert at most.
const alertFlushEvery = 100 * time.Millisecond

func detectFiles(o detectOptions, stdout, stderr io.Writer) int {
	sig := watchSignals("detect", stderr)
	defer sig.stop()
	// An alert log that is one of the captures is refused before any work
	// (appending JSON into a pcap corrupts it).
	if o.out != "" {
		if err := outfile.Check(o.out, outfile.Options{Mode: outfile.Append, Inputs: o.files}); err != nil {
			return fail(stderr, "detect", err)
		}
	}
	// -f on files filters as tcpdump -r FILE EXPR does; a bad expression
	// is refused before any work.
	var filter *recordFilter
	if o.live.filter != "" {
		var err error
		if filter, err = newRecordFilter(o.live.filter); err != nil {
			return badFlag(stderr, "detect", err)
		}
	}
	setup, err := setupDetect(o, stderr)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	in := setup.intel
	r, err := capture.Open(o.files...)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	defer r.Close()
	if filter != nil {
		r.SetFilter(filter.keep)
	}
	alerts, err := online.OpenAlertLog(o.out, stdout, o.files...)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	defer alerts.Close()
	alerts.Only(o.eveTypes)
	// Alerts are written in batches (a write per alert was ~5 % of the
	// CPU time on a capture with many events), at most alertFlushEvery
	// late, and before the process exits, also on a second signal.
	alerts.FlushAfter(alertFlushEvery)
	sig.beforeHardExit(func() { alerts.Flush() })
	ks, err := startKafka(o, in, stderr)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	defer closeKafka(ks, o, stderr)
	// A failed alert write (a full disk) stops the run at once: reading on
	// would only lose more alerts, and the operator must know now.
	ctx, stopRun := context.WithCancelCause(sig.ctx)
	defer stopRun(nil)
	probes, err := startProbes(o.probe, in, func(a *alert.Alert) error { ks.Alert(a); return alerts.Write(a) }, stderr)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	cfg := setup.engine
	if o.kafka.flows {
		cfg.OnRow = ks.Row // --kafka-flows: flow records to Kafka
	}
	var (
		st    ingest.Stats
		es    engine.Stats
		hosts []*engine.HostSummary
	)
	if o.live.workers > 1 {
		// Flows spread over engines by the flow hash; the alerts come out
		// as one engine's (detect/parallel). Every flow is flushed there.
		names := make([]string, len(o.files))
		for i := range o.files {
			names[i] = captureName(o.files[i])
		}
		progress := newProgress(stderr, r)
		var pst parallel.Stats
		pst, hosts, err = parallel.Run(ctx, r, parallel.Config{Engine: cfg, Workers: o.live.workers, Names: names, SkipBadFiles: true,
			Progress: func(n int64) { progress.update(n, -1) }}, // the flows are the workers'; not counted here
			func(a *alert.Alert) error {
				ks.Alert(a)
				err := alerts.Write(a)
				if err != nil {
					stopRun(err)
				}
				if probes != nil {
					probes.Observe(a)
				}
				return err
			})
		progress.done()
		if context.Cause(ctx) != nil && errors.Is(err, context.Cause(ctx)) {
			err = nil // the alert write failure, reported below as on one engine
		}
		st = ingest.Stats{Capture: r.Stats(), Decode: pst.Decode, Defrag: pst.Defrag}
		es = pst.Engine
	} else {
		current, currentFile := "", -1
		cfg.Capture = func() string { return current }
		eng := engine.New(cfg, func(a *alert.Alert) {
			ks.Alert(a)
			if err := alerts.Write(a); err != nil {
				stopRun(err)
			}
			if probes != nil {
				probes.Observe(a)
			}
		})
		progress := newProgress(stderr, r)
		st, err = ingest.Run(ctx, r, nil, ingest.Options{
			Sink: eng.Packet,
			OnPacket: func(rec *capture.Record, _ *packet.Packet) {
				// The name changes with the file only (filepath.Base
				// for every packet was 1 % of detect's CPU time).
				if rec.File != currentFile {
					current, currentFile = captureName(r.Path(rec.File)), rec.File
				}
			},
			Progress:      func(s *ingest.Stats) { progress.update(s.Capture.Records, eng.FlowsCreated()) },
			ProgressEvery: progressEvery,
			SkipBadFiles:  true,
		})
		progress.done()
		st.Capture = r.Stats() // also when stopped early
		// Interrupted or not, flows in progress are decided and reported.
		if context.Cause(ctx) == nil || errors.Is(context.Cause(ctx), context.Canceled) {
			eng.Flush()
		}
		es, hosts = eng.Stats(), eng.Hosts()
	}
	stopProbes(probes, o.probe, sig.signal() != nil, stderr)
	writeErr := context.Cause(ctx)
	if errors.Is(writeErr, context.Canceled) {
		writeErr = nil
	}
	if cerr := alerts.Close(); writeErr == nil {
		writeErr = cerr
	}
	if in.Learned().Path() != "" {
		if serr := in.Learned().Save(); serr != nil {
			fmt.Fprintf(stderr, "minerwatch detect: warning: %v\n", serr)
		}
	}
	inputFailed := reportInputs(stderr, "detect", r)
	if w := filter.report(); w != "" {
		fmt.Fprintf(stderr, "minerwatch detect: warning: %s\n", w)
	}
	reportCapped(stderr, "detect", es.Drops(), st.Defrag.Drops())
	if o.summary {
		sw := stdout
		if o.out == "" {
			sw = stderr
		}
		markProbed(hosts, probes)
		engine.WriteSummary(sw, hosts, int64(es.Flows.FlowsCreated), int64(st.Capture.Records))
	}
	if o.stats {
		fmt.Fprintf(stderr, "packets %d, flows %d (evicted %d), %s, DNS messages %d, TLS hellos %d, scored windows %d\n",
			st.Capture.Records, es.Flows.FlowsCreated, es.Flows.Evicted, alertCounts(es.Alerts), es.DNSParsed, es.TLSHellos, es.Scored)
		if es.Scored > 0 {
			// What issue 13's "≤ 2 µs per row" measures in a real run: the
			// model's bound, then the whole forest where the bound cannot
			// tell (wall time per row, so a loaded machine reads higher).
			// The periodicity features the bound asked for are feature
			// extraction, timed apart.
			fmt.Fprintf(stderr, "model: %d rows scored, %.2f µs per row (bound and forest), %d periodicity computations left out, %d computed (%s µs each)\n",
				es.Scored, float64(es.ScoreNanos)/float64(es.Scored)/1e3, es.PeriodsSkipped, es.PeriodsComputed, perEach(es.PeriodNanos, es.PeriodsComputed))
		}
		if sg := es.Signature; sg.OverlapConflicts+sg.AltReadings+sg.Padding > 0 {
			fmt.Fprintf(stderr, "signature: %d conflicting retransmissions, %d flows read a second way (last copy wins), %d padding bytes skipped\n",
				sg.OverlapConflicts, sg.AltReadings, sg.Padding)
		}
		if filter != nil {
			fmt.Fprintf(stderr, "filter: %d packets kept, %d left out by -f\n", st.Capture.Records, st.Capture.Filtered)
		}
		if st.Defrag.Any() {
			fmt.Fprintf(stderr, "%v\n", st.Defrag)
		}
	}
	if writeErr != nil {
		return fail(stderr, "detect", fmt.Errorf("%w (stopped after %d packets)", writeErr, st.Capture.Records))
	}
	if sig.signal() != nil {
		return sig.report(fmt.Sprintf("%d packets (the alerts so far are written)", st.Capture.Records))
	}
	if err != nil {
		return fail(stderr, "detect", err)
	}
	if inputFailed {
		return 1
	}
	return 0
}

// alertCounts says how many alerts each detector raised, in pipeline
// order ("alerts 3 (signature 1, model 2)"), not as a Go map.
// perEach formats nanos/n in µs with two decimals, or "-" when n is 0.
func perEach(nanos, n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(nanos)/float64(n)/1e3, 'f', 2, 64)
}

func alertCounts(by map[string]int64) string {
	order := []string{alert.DetectorSignature, alert.DetectorModel, alert.DetectorIntel}
	for d := range by {
		if !slices.Contains(order, d) {
			order = append(order, d)
		}
	}
	slices.Sort(order[3:])
	var total int64
	var parts []string
	for _, d := range order {
		if n := by[d]; n > 0 {
			total += n
			parts = append(parts, d+" "+strconv.FormatInt(n, 10))
		}
	}
	if total == 0 {
		return "alerts 0"
	}
	return "alerts " + strconv.FormatInt(total, 10) + " (" + strings.Join(parts, ", ") + ")"
}
