package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/probe"
)

const probeDesc = `Ask HOST:PORT to speak Stratum: connect (with --tls: TLS without certificate
verification, SNI as --sni), send the login/subscribe of each dialect the signature
stage knows (CryptoNote/XMRig login, Stratum v1 mining.subscribe + mining.authorize,
eth-proxy eth_submitLogin + eth_getWork, EthereumStratum/2.0.0 mining.hello), one
connection per dialect until one answers, and judge the answer with the signature
state machine. What is sent: a throw-away wallet-shaped login (not a wallet), the
password "x", the --agent string naming the prober. A share is never submitted.

Output: one line per dialect tried, then one JSON object, the last line of stdout,
whose "verdict" is "pool" (dialect, algorithms, difficulty/target, extensions, TLS
certificate), "not-pool" ("answer": http, ssh, tls-alert, tls-error, json, other,
closed, silence — an encrypted proxy such as shadowsocks or ssh -D cannot be
confirmed: it shows as silence/closed or ssh) or "error" (refused, unreachable).
Exit status: 0 pool or not-pool, 1 error. Probe only endpoints you may probe
(README, "Active probe").`

func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("probe", "HOST:PORT [--tls] [--sni NAME] [--timeout 5s]", probeDesc, stderr)
	useTLS := fs.Bool("tls", false, "speak TLS first (no certificate verification)")
	sni := fs.String("sni", "", "TLS server `NAME` to send (default: HOST when it is a name)")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on the whole probe, every dialect included")
	agent := fs.String("agent", probe.DefaultAgent, "agent `STRING` sent in the logins, so pool operators can identify the prober")
	dialects := fs.String("dialects", strings.Join(probe.DialectNames(), ","), "dialects to try, in order")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return badFlag(stderr, "probe", errors.New("give one HOST:PORT"))
	}
	if *timeout <= 0 {
		return badFlag(stderr, "probe", errors.New("--timeout must be positive"))
	}
	names := splitList(*dialects)
	if err := probe.CheckDialects(names); err != nil {
		return badFlag(stderr, "probe", fmt.Errorf("--dialects: %w", err))
	}
	host, port, err := net.SplitHostPort(fs.Arg(0))
	if err != nil {
		return badFlag(stderr, "probe", fmt.Errorf("%q: want HOST:PORT", fs.Arg(0)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	addr, err := resolve(ctx, host, port)
	if err != nil {
		return fail(stderr, "probe", err)
	}
	t := probe.Target{Addr: addr, TLS: *useTLS, SNI: *sni}
	if t.SNI == "" && *useTLS && net.ParseIP(host) == nil {
		t.SNI = host
	}
	r := probe.Probe(context.Background(), t, probe.Config{Timeout: *timeout, Agent: *agent, Dialects: names})
	for _, a := range r.Attempts {
		line := fmt.Sprintf("%s: %s", a.Dialect, a.Answer)
		if a.Detail != "" {
			line += " (" + a.Detail + ")"
		}
		fmt.Fprintf(stdout, "%s, %d ms\n", line, a.Ms)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return fail(stderr, "probe", err)
	}
	fmt.Fprintf(stdout, "%s\n", js)
	if r.Verdict == probe.VerdictError {
		fmt.Fprintf(stderr, "minerwatch probe: %s: %s\n", r.Target, r.Error)
		return 1
	}
	return 0
}

// resolve turns HOST and PORT into one address (the first a name resolves to).
func resolve(ctx context.Context, host, port string) (netip.AddrPort, error) {
	p, err := net.LookupPort("tcp", port)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("port %q: want 1-65535", port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: %v", host, err)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(p)), nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// probeOptions are the --probe flags of `minerwatch detect`.
type probeOptions struct {
	on       bool
	scope    string
	rate     float64
	timeout  time.Duration
	ttl      time.Duration
	agent    string
	attempts bool
	prefixes []netip.Prefix
}

func probeFlags(fs *flag.FlagSet, o *probeOptions) {
	fs.BoolVar(&o.on, "probe", false, "actively probe the servers of suspected flows (model alerts) inside --probe-scope: ask them to speak Stratum (README, \"Active probe\"); off by default")
	fs.StringVar(&o.scope, "probe-scope", "", "with --probe (required): `CIDR,...` the only servers ever probed")
	fs.Float64Var(&o.rate, "probe-rate", 1, "with --probe: at most this many probes started per second")
	fs.DurationVar(&o.timeout, "probe-timeout", 5*time.Second, "with --probe: bound on one probe, every dialect included")
	fs.DurationVar(&o.ttl, "probe-ttl", time.Hour, "with --probe: reuse an endpoint's verdict this long")
	fs.StringVar(&o.agent, "probe-agent", probe.DefaultAgent, "with --probe: agent `STRING` sent in the logins (identifies the prober to pool operators)")
	fs.BoolVar(&o.attempts, "probe-attempts", false, "with --probe: also probe the servers of unanswered signature attempts")
}

// check validates the --probe flags (exit 2 on nonsense).
func (o *probeOptions) check() error {
	if !o.on {
		if o.scope != "" {
			return errors.New("--probe-scope needs --probe")
		}
		return nil
	}
	if o.scope == "" {
		return errors.New("--probe needs --probe-scope CIDR,...: nothing outside it is ever probed")
	}
	p, err := probe.ParseScope(o.scope)
	if err != nil {
		return fmt.Errorf("--probe-scope: %w", err)
	}
	switch {
	case o.rate <= 0 || o.rate > 1000:
		return errors.New("--probe-rate must be in (0, 1000] probes per second")
	case o.timeout <= 0:
		return errors.New("--probe-timeout must be positive")
	case o.ttl <= 0:
		return errors.New("--probe-ttl must be positive")
	}
	o.prefixes = p
	return nil
}

// startProbes starts the probe scheduler of detect --probe (nil when off):
// its events go to write, confirmed pools into in's learned list.
func startProbes(o probeOptions, in *intel.Intel, write func(*alert.Alert) error, stderr io.Writer) (*probe.Scheduler, error) {
	if !o.on {
		return nil, nil
	}
	var warn sync.Once
	return probe.NewScheduler(probe.SchedulerConfig{Scope: o.prefixes, Rate: o.rate, TTL: o.ttl, Attempts: o.attempts,
		Probe: probe.Config{Timeout: o.timeout, Agent: o.agent}, Intel: in,
		Emit: func(a *alert.Alert) {
			if err := write(a); err != nil {
				warn.Do(func() { fmt.Fprintf(stderr, "minerwatch detect: warning: probe event: %v\n", err) })
			}
		}})
}

// stopProbes waits for the queued probes (as long as the queue can take at
// the rate, at most two minutes; none when interrupted) and reports.
func stopProbes(s *probe.Scheduler, o probeOptions, interrupted bool, stderr io.Writer) {
	if s == nil {
		return
	}
	wait := 2*o.timeout + time.Duration(float64(time.Second)*256/o.rate)
	if wait > 2*time.Minute {
		wait = 2 * time.Minute
	}
	if interrupted {
		wait = 0
	}
	fmt.Fprintf(stderr, "minerwatch detect: %v\n", s.Close(wait))
}

// markProbed adds "probe" to the detectors of the hosts whose flows the
// probe confirmed, for --summary.
func markProbed(hosts []*engine.HostSummary, s *probe.Scheduler) {
	if s == nil {
		return
	}
	for _, h := range hosts {
		if s.ConfirmedHost(h.Host) {
			h.Detectors[alert.DetectorProbe] = true
		}
	}
}
