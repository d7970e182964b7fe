package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/online"
	"github.com/minerwatch/minerwatch/features/export"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/live"
)

// liveOptions are the flags of the online path of `minerwatch detect`.
type liveOptions struct {
	iface       string
	filter      string
	workers     int
	snaplen     int
	noPromisc   bool
	metrics     string
	realtime    bool
	speed       float64
	pcapOut     string
	pcapMaxMB   int64
	rowsOut     string
	rotateMB    int64
	rotateEvery time.Duration
}

func liveFlags(fs *flag.FlagSet, o *liveOptions) {
	fs.StringVar(&o.iface, "i", "", "capture live on interface `IFACE` (AF_PACKET, TPACKET_V3; needs root or CAP_NET_RAW)")
	fs.StringVar(&o.filter, "f", "", "capture filter `EXPR` (-i, and -r as tcpdump -r FILE EXPR): a tcpdump expression (builds with -tags libpcap), or @FILE holding 'tcpdump -ddd' output")
	fs.IntVar(&o.workers, "workers", 1, "workers, each with its own flow table (flows are spread by a symmetric flow hash); with -r alone the alerts are the same as with one, learned and rate-limited intel included (flows ending with one timestamp may swap; full tables evict differently: README \"Offline on several cores\")")
	fs.IntVar(&o.snaplen, "snaplen", 65535, "bytes kept of each captured frame")
	fs.BoolVar(&o.noPromisc, "no-promisc", false, "do not put the interface into promiscuous mode")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on `ADDR`/metrics and the per-host view (hosts, wallets, agents; no auth) on ADDR/hosts; a bare PORT or :PORT binds 127.0.0.1 only")
	fs.BoolVar(&o.realtime, "realtime", false, "with -r: replay the capture at its recorded pace through the online path")
	fs.Float64Var(&o.speed, "speed", 1, "with --realtime: replay this many times faster")
	fs.StringVar(&o.pcapOut, "pcap-out", "", "online: write the packets of alerted flows (from the alert on, cut to --snaplen) to this pcap `FILE`; appended to, or an unusable old file moved aside, never truncated")
	fs.Int64Var(&o.pcapMaxMB, "pcap-out-max", 64, "online: cap of the --pcap-out file in MiB")
	fs.StringVar(&o.rowsOut, "rows-out", "", "online: write flow records and checkpoint feature rows to Arrow IPC stream files named after `PATH`")
	fs.Int64Var(&o.rotateMB, "rotate-size", 256, "online: start a new --rows-out file after this many MiB (0 = never)")
	fs.DurationVar(&o.rotateEvery, "rotate-every", time.Hour, "online: start a new --rows-out file this often (0 = never)")
}

// metricsAddr is the listen address of --metrics: a bare port ("9410" or
// ":9410") binds the loopback interface only, because /hosts lists the
// hosts seen mining with their wallets, logins and miner agents; a host
// given explicitly (0.0.0.0:9410 included) is honoured.
func metricsAddr(s string) string {
	if _, err := strconv.ParseUint(s, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", s)
	}
	if strings.HasPrefix(s, ":") {
		return "127.0.0.1" + s
	}
	return s
}

// check refuses nonsense values of the online flags (exit 2).
func (o *liveOptions) check(alertsOut string) error {
	switch {
	case o.workers < 1 || o.workers > 64:
		return errors.New("--workers must be between 1 and 64")
	case o.snaplen < minSnaplen || o.snaplen > maxSnaplen:
		return fmt.Errorf("--snaplen must be between %d and %d", minSnaplen, maxSnaplen)
	case o.pcapMaxMB < 1 || o.pcapMaxMB > maxFileMiB:
		return fmt.Errorf("--pcap-out-max must be between 1 and %d (MiB)", maxFileMiB)
	case o.rotateMB < 0 || o.rotateMB > maxFileMiB:
		return fmt.Errorf("--rotate-size must be between 0 (never) and %d (MiB)", maxFileMiB)
	case o.rotateEvery < 0:
		return errors.New("--rotate-every must not be negative (0 = never)")
	case o.speed <= 0 || math.IsInf(o.speed, 0) || math.IsNaN(o.speed):
		return errors.New("--speed must be a positive number")
	case !o.online() && (o.pcapOut != "" || o.rowsOut != "" || o.metrics != ""):
		return errors.New("--pcap-out, --rows-out and --metrics apply to the online path (-i, or -r with --realtime)")
	case o.pcapOut != "" && samePath(o.pcapOut, alertsOut):
		return errors.New("--pcap-out and -o name the same file")
	}
	return nil
}

// samePath reports whether a and b name one file (or one path not yet
// created).
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// maxFileMiB bounds the size flags given in MiB (1 TiB), so that their
// value in bytes cannot overflow.
const maxFileMiB = 1 << 20

// Snaplen bounds: 64 bytes still hold Ethernet, IPv4 and TCP headers;
// 262144 is libpcap's largest.
const (
	minSnaplen = 64
	maxSnaplen = 262144
)

// online reports whether the flags ask for the online path.
func (o *liveOptions) online() bool { return o.iface != "" || o.realtime }

func detectLive(o detectOptions, stdout, stderr io.Writer) int {
	lo := o.live
	switch {
	case lo.iface != "" && len(o.files) > 0:
		return fail(stderr, "detect", errors.New("-i and -r are exclusive"))
	case lo.realtime && len(o.files) == 0:
		return fail(stderr, "detect", errors.New("--realtime replays a capture: give -r FILE"))
	case lo.filter != "" && lo.iface == "":
		return fail(stderr, "detect", errors.New("-f filters -i and offline -r, not a --realtime replay"))
	}
	setup, err := setupDetect(o, stderr)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	// SIGINT/SIGTERM end the run. On an interface that is the normal end
	// (exit 0); a --realtime replay stopped before the end of its capture
	// is an interrupted offline run (exit 128+signal, see signals.go).
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stopSig atomic.Value
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			stopSig.Store(s)
			stop()
		case <-ctx.Done():
		}
	}()

	var (
		sources []online.Source
		replay  func(context.Context) error
		name    string
	)
	if lo.iface != "" {
		prog, err := live.CompileFilter(lo.filter, lo.snaplen)
		if err != nil {
			return fail(stderr, "detect", err)
		}
		g, err := live.Open(live.Config{Interface: lo.iface, Workers: lo.workers, Snaplen: lo.snaplen,
			Promiscuous: !lo.noPromisc, Filter: prog})
		if err != nil {
			return fail(stderr, "detect", err)
		}
		// Closed only after Run returns: a socket's ring must outlive its reader.
		defer g.Close()
		sources, name = online.LiveSources(g), lo.iface
	} else {
		sources, replay, err = online.Replay(online.ReplayConfig{Files: o.files, Workers: lo.workers, Realtime: lo.realtime, Speed: lo.speed})
		if err != nil {
			return fail(stderr, "detect", err)
		}
		name = filepath.Base(o.files[0])
	}

	alerts, err := online.OpenAlertLog(o.out, stdout, o.files...)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	defer alerts.Close()
	alerts.Only(o.eveTypes)
	alerts.OnFailure(func(err error) {
		fmt.Fprintf(stderr, "minerwatch detect: error: %v: alerts are being lost until the log is reopened (kill -HUP after freeing space)\n", err)
	})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := alerts.Reopen(); err != nil {
				fmt.Fprintf(stderr, "minerwatch detect: warning: %v\n", err)
			}
		}
	}()

	cfg := online.Config{Engine: setup.engine, Name: name, Alerts: alerts}
	ks, err := startKafka(o, setup.intel, stderr)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	defer closeKafka(ks, o, stderr)
	if ks != nil {
		cfg.OnAlert, cfg.Collectors = ks.Alert, append(cfg.Collectors, ks.Collector())
	}
	if o.kafka.flows {
		cfg.OnRow = ks.Row
	}
	// Probe events go through the runner like the workers' alerts (metrics,
	// /hosts, the log, and OnAlert: Kafka); the runner exists before the
	// first alert can ask for a probe.
	var runner *online.Runner
	probes, err := startProbes(o.probe, setup.intel, func(a *alert.Alert) error { runner.Record(a); return nil }, stderr)
	if err != nil {
		return fail(stderr, "detect", err)
	}
	if probes != nil {
		// Off the packet path: Observe only queues.
		if toKafka := cfg.OnAlert; toKafka != nil {
			cfg.OnAlert = func(a *alert.Alert) { toKafka(a); probes.Observe(a) }
		} else {
			cfg.OnAlert = probes.Observe
		}
	}
	var rows *export.StreamWriter
	if lo.rowsOut != "" {
		rows, err = export.NewStream(export.StreamConfig{Path: lo.rowsOut,
			Meta:     export.Meta{Version: version, Sets: flowfeat.Sets(), Checkpoints: o.checkpoints, FlowTable: o.flowCfg, LabelSources: []string{"signature", "intel"}},
			MaxBytes: lo.rotateMB << 20, MaxAge: lo.rotateEvery})
		if err != nil {
			return fail(stderr, "detect", err)
		}
		cfg.Engine.Features = true
		toKafka := cfg.OnRow // --kafka-flows, or nil
		cfg.OnRow = func(r *flowfeat.Row, fi *engine.FlowInfo) {
			if toKafka != nil {
				toKafka(r, fi)
			}
			if err := rows.Write(r, rowLabels(fi)); err != nil {
				fmt.Fprintf(stderr, "minerwatch detect: warning: %v\n", err)
			}
		}
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := rows.Maintain(); err != nil {
						fmt.Fprintf(stderr, "minerwatch detect: warning: %v\n", err)
					}
				}
			}
		}()
	}
	var ln net.Listener
	if lo.metrics != "" {
		if ln, err = net.Listen("tcp", metricsAddr(lo.metrics)); err != nil {
			return fail(stderr, "detect", fmt.Errorf("metrics: %w", err))
		}
		defer ln.Close()
	}
	// The evidence file is opened last, once every other part of start-up
	// has succeeded; it is appended to or moved aside, never truncated.
	var ev *online.Evidence
	if lo.pcapOut != "" {
		if ev, err = online.OpenEvidence(online.EvidenceConfig{Path: lo.pcapOut, MaxBytes: lo.pcapMaxMB << 20, Snaplen: lo.snaplen, Inputs: o.files}); err != nil {
			return fail(stderr, "detect", err)
		}
		for _, r := range ev.Rotated() {
			fmt.Fprintf(stderr, "minerwatch detect: evidence: moved %s aside to %s\n", lo.pcapOut, r)
		}
		cfg.Evidence = ev
	}
	runner = online.New(cfg, sources)
	if ln != nil {
		srv := &http.Server{Handler: runner.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(stderr, "minerwatch detect: metrics on http://%s/metrics\n", ln.Addr())
	}
	var replayErr error
	replayDone := make(chan struct{})
	if replay != nil {
		go func() { defer close(replayDone); replayErr = replay(ctx) }()
	} else {
		close(replayDone)
	}
	start := time.Now()
	runErr := runner.Run(ctx)
	stop()
	<-replayDone // replayErr is read below (it was read racing the replay's end)
	stopProbes(probes, o.probe, stopSig.Load() != nil, stderr)

	// Outputs are completed even when the input was lost.
	var errs []error
	if rows != nil {
		errs = append(errs, rows.Close())
	}
	if ev != nil {
		errs = append(errs, ev.Close())
	}
	errs = append(errs, alerts.Close())
	if in := setup.intel; in.Learned().Path() != "" {
		if serr := in.Learned().Save(); serr != nil {
			fmt.Fprintf(stderr, "minerwatch detect: warning: %v\n", serr)
		}
	}
	sw := stdout
	if o.out == "" {
		sw = stderr
	}
	t := runner.Totals()
	if o.summary {
		hosts := runner.HostSummaries()
		markProbed(hosts, probes)
		engine.WriteSummary(sw, hosts, int64(t.Engine.Flows.FlowsCreated), int64(t.Packets))
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "minerwatch detect: %s: packets %d (%.0f/s), kernel drops %d, flows %d (evicted %d), %s\n",
		name, t.Packets, float64(t.Packets)/el, t.KernelDrops, t.Engine.Flows.FlowsCreated, t.Engine.Flows.Evicted, alertCounts(t.Engine.Alerts))
	if t.Defrag.Any() {
		fmt.Fprintf(stderr, "minerwatch detect: %s: %v\n", name, t.Defrag)
	}
	if errors.Is(replayErr, context.Canceled) {
		replayErr = nil // stopped by a signal, said below
	}
	if err := errors.Join(append([]error{runErr, replayErr}, errs...)...); err != nil {
		return fail(stderr, "detect", err)
	}
	if s, ok := stopSig.Load().(os.Signal); ok && replay != nil {
		fmt.Fprintf(stderr, "minerwatch detect: interrupted by %s after %d packets (the alerts so far are written)\n", signalName(s), t.Packets)
		return exitCode(s)
	}
	return 0
}

// rowLabels labels an online row: only what the detectors said (there is
// no manifest online).
func rowLabels(fi *engine.FlowInfo) export.Labels {
	lab := export.Labels{Capture: fi.Capture(), Stages: fi.RowStages()}
	switch {
	case fi.AlertedBy("signature"):
		lab.Label, lab.LabelSource = "mining", "signature"
	case fi.AlertedBy("intel"):
		lab.Label, lab.LabelSource = "mining", "intel"
	}
	return lab
}
