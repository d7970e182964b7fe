package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
)

func runFlows(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows", "-r FILE... [flags]",
		"Print one line per bidirectional flow (like tshark -z conv): client, server,\npackets and IP bytes each way, start and duration. Flows are printed as they end.", stderr)
	var files multiFlag
	fs.Var(&files, "r", "capture file to read (pcap/pcapng, optionally gzip); repeatable, extra arguments are files too")
	proto := fs.String("proto", "", "only flows of this protocol: tcp or udp")
	ftc := flowFlags(fs)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		return fail(stderr, "flows", errors.New("no capture given (use -r FILE)"))
	}
	cfg, err := ftc()
	if err != nil {
		return fail(stderr, "flows", err)
	}
	r, err := capture.Open(files...)
	if err != nil {
		return fail(stderr, "flows", err)
	}
	defer r.Close()
	tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "flow_id\tproto\tclient\t\tserver\tpkts_up\tbytes_up\tpkts_down\tbytes_down\tstart\tduration_s\tend\t")
	var origin time.Time
	obs := &flowPrinter{fn: func(f *flows.Flow, reason flows.EndReason) {
		if *proto != "" && protoName(f.Proto) != *proto {
			return
		}
		if origin.IsZero() {
			origin = f.First
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t<->\t%s\t%d\t%d\t%d\t%d\t%s\t%.3f\t%s\t\n", f.ID, protoName(f.Proto),
			f.Client, f.Server, f.Up.Pkts, f.Up.Bytes, f.Down.Pkts, f.Down.Bytes,
			f.First.UTC().Format("2006-01-02T15:04:05.000000Z"), f.Duration().Seconds(), reason)
	}}
	t := flows.NewTable(cfg, obs)
	st, err := ingest.Run(context.Background(), r, t, ingest.Options{SkipBadFiles: true})
	tw.Flush()
	if err != nil {
		return fail(stderr, "flows", err)
	}
	inputFailed := reportInputs(stderr, "flows", r)
	fmt.Fprintf(stderr, "%d packets, %d flows, %d not IP, %d malformed, %d without ports, %d evicted\n",
		st.Capture.Records, st.Flows.FlowsCreated, st.Decode.NotIP, st.Decode.Malformed, st.Flows.NoPorts, st.Flows.Evicted)
	if inputFailed {
		return 1
	}
	return 0
}

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
		if *idle <= 0 || *idleUDP <= 0 || *active < 0 {
			return d, errors.New("timeouts must be positive")
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
