package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
)

func runFlows(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows", "-r FILE... [flags]",
		"Print one line per bidirectional flow (like tshark -z conv): client, server, packets and\n"+
			"IP bytes (IP header included, as NetFlow counts them) each way, start, duration and why the\n"+
			"flow ended. Lines are printed as flows end, in fixed-width columns (a long IPv6 address\n"+
			"widens its line), so memory stays bounded and an interrupted run keeps what it printed.", stderr)
	var files multiFlag
	fs.Var(&files, "r", "capture `FILE` to read (pcap/pcapng, optionally gzip); repeatable, extra arguments are files too")
	proto := fs.String("proto", "", "only flows of protocol `PROTO`: tcp or udp")
	filterExpr := fs.String("f", "", "read only the packets filter `EXPR` keeps, as tcpdump -r FILE EXPR (tcpdump expression with -tags libpcap, or @FILE holding 'tcpdump -ddd' output)")
	ftc := flowFlags(fs)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		return fail(stderr, "flows", errors.New("no capture given (use -r FILE)"))
	}
	if *proto != "" && *proto != "tcp" && *proto != "udp" {
		return badFlag(stderr, "flows", fmt.Errorf("bad --proto %q (want tcp or udp)", *proto))
	}
	cfg, err := ftc()
	if err != nil {
		return badFlag(stderr, "flows", err)
	}
	var filter *recordFilter
	if *filterExpr != "" {
		if filter, err = newRecordFilter(*filterExpr); err != nil {
			return badFlag(stderr, "flows", err)
		}
	}
	sig := watchSignals("flows", stderr)
	defer sig.stop()
	r, err := capture.Open(files...)
	if err != nil {
		return fail(stderr, "flows", err)
	}
	defer r.Close()
	if filter != nil {
		r.SetFilter(filter.keep)
	}
	// Each line is formatted as its flow ends and goes out through a
	// small buffer: nothing is held per flow (a tabwriter would hold every
	// line until the end to align the columns).
	bw := bufio.NewWriter(stdout)
	fmt.Fprintf(bw, flowLineHeader, "flow_id", "proto", "client", "server", "pkts_up", "bytes_up", "pkts_down", "bytes_down", "start", "duration_s", "end")
	var writeErr error
	obs := &flowPrinter{fn: func(f *flows.Flow, reason flows.EndReason) {
		if *proto != "" && protoName(f.Proto) != *proto {
			return
		}
		_, err := fmt.Fprintf(bw, flowLine, f.ID, protoName(f.Proto),
			f.Client, f.Server, f.Up.Pkts, f.Up.Bytes, f.Down.Pkts, f.Down.Bytes,
			f.First.UTC().Format("2006-01-02T15:04:05.000000Z"), f.Duration().Seconds(), reason)
		if err != nil && writeErr == nil {
			writeErr = err
		}
	}}
	t := flows.NewTable(cfg, obs)
	st, err := ingest.Run(sig.ctx, r, t, ingest.Options{SkipBadFiles: true})
	if sig.signal() != nil || err != nil {
		// Stopped early (a signal, a failed read): the flows read so far
		// are printed too, ended as "flush".
		t.Flush()
	}
	if ferr := bw.Flush(); writeErr == nil {
		writeErr = ferr
	}
	inputFailed := reportInputs(stderr, "flows", r)
	st.Flows = t.Stats()
	fmt.Fprintf(stderr, "%d packets, %d flows, %d not IP, %d malformed, %d without ports, %d evicted\n",
		r.Stats().Records, st.Flows.FlowsCreated, st.Decode.NotIP, st.Decode.Malformed, st.Flows.NoPorts, st.Flows.Evicted)
	if filter != nil {
		fmt.Fprintf(stderr, "%d packets left out by -f\n", r.Stats().Filtered)
		if w := filter.report(); w != "" {
			fmt.Fprintf(stderr, "minerwatch flows: warning: %s\n", w)
		}
	}
	reportCapped(stderr, "flows", st.Flows.Drops(), st.Defrag.Drops())
	if writeErr != nil {
		return fail(stderr, "flows", fmt.Errorf("write: %w", writeErr))
	}
	if sig.signal() != nil {
		return sig.report(fmt.Sprintf("%d packets", r.Stats().Records))
	}
	if err != nil {
		return fail(stderr, "flows", err)
	}
	if inputFailed {
		return 1
	}
	return 0
}

// The columns of `flows`: numbers right-aligned, addresses padded to the
// width of an IPv4 address and port; what does not fit widens its line.
const (
	flowLineHeader = "%16s %-5s %21s     %-21s %9s %12s %9s %12s %-27s %10s %s\n"
	flowLine       = "%16d %-5s %21s <-> %-21s %9d %12d %9d %12d %-27s %10.3f %s\n"
)

func protoName(p uint8) string {
	switch p {
	case packet.ProtoTCP:
		return "tcp"
	case packet.ProtoUDP:
		return "udp"
	}
	return fmt.Sprintf("ip%d", p)
}

// flowPrinter is a flows.Observer that reports ended flows.
type flowPrinter struct {
	fn func(*flows.Flow, flows.EndReason)
}

func (o *flowPrinter) FlowStarted(*flows.Flow)                              {}
func (o *flowPrinter) Packet(*flows.Flow, *packet.Packet, packet.Direction) {}
func (o *flowPrinter) ActiveRecord(*flows.Record)                           {}
func (o *flowPrinter) FlowEnded(f *flows.Flow, reason flows.EndReason)      { o.fn(f, reason) }

// flowFlags registers the flow-table flags and returns a function that
// builds the config after parsing.
func flowFlags(fs interface {
	Duration(string, time.Duration, string) *time.Duration
	Int(string, int, string) *int
}) func() (flows.Config, error) {
	d := flows.DefaultConfig()
	idle := fs.Duration("idle-timeout", d.IdleTCP, "end a TCP flow after this long without a packet")
	idleUDP := fs.Duration("udp-timeout", d.IdleUDP, "end a UDP flow after this long without a packet")
	active := fs.Duration("active-timeout", d.ActiveTimeout, "emit an active-period record of a long flow this often (0 = never)")
	max := fs.Int("max-flows", d.MaxFlows, "hard cap on concurrent flows (the oldest are evicted, and counted)")
	return func() (flows.Config, error) {
		switch {
		case *idle <= 0:
			return d, errors.New("--idle-timeout must be positive")
		case *idleUDP <= 0:
			return d, errors.New("--udp-timeout must be positive")
		case *active < 0:
			return d, errors.New("--active-timeout must not be negative (0 = never)")
		}
		if *max <= 0 {
			return d, errors.New("--max-flows must be positive")
		}
		d.IdleTCP, d.IdleUDP, d.ActiveTimeout, d.MaxFlows = *idle, *idleUDP, *active, *max
		return d, nil
	}
}

// isTerminal reports whether w is a terminal (for progress output).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
