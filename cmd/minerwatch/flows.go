package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
)

func runFlows(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows", "-r FILE... [--format text|csv|json] [flags]",
		"Print one line per bidirectional flow (like tshark -z conv): client, server, packets and\n"+
			"IP bytes (IP header included, as NetFlow counts them) each way, start, duration and why the\n"+
			"flow ended. Lines are printed as flows end, so memory stays bounded and an interrupted run\n"+
			"keeps what it printed. --format text: fixed-width columns (a long IPv6 address widens its\n"+
			"line); csv: a header line, then the fields\n  "+strings.Join(flowFields[:9], ",")+",\n  "+
			strings.Join(flowFields[9:], ",")+"\n"+
			"(frame_bytes: link layer included, as tshark counts); json: one object per line, same fields.\n"+
			"end: "+endReasonsDoc, stderr)
	var files multiFlag
	fs.Var(&files, "r", "capture `FILE` to read (pcap/pcapng, optionally gzip; - = standard input); repeatable, extra arguments are files too")
	format := fs.String("format", "text", "output `FORMAT`: text, csv or json (JSON lines)")
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
	var printer flowWriter
	switch *format {
	case "text":
		printer = writeFlowText
	case "csv":
		printer = writeFlowCSV
	case "json":
		printer = writeFlowJSON
	default:
		return badFlag(stderr, "flows", fmt.Errorf("bad --format %q (want text, csv or json)", *format))
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
	var line []byte
	switch *format {
	case "text":
		fmt.Fprintf(bw, flowLineHeader, "flow_id", "proto", "client", "server", "pkts_up", "bytes_up", "pkts_down", "bytes_down", "start", "duration_s", "end")
	case "csv":
		fmt.Fprintln(bw, strings.Join(flowFields, ","))
	}
	var writeErr error
	obs := &flowPrinter{fn: func(f *flows.Flow, reason flows.EndReason) {
		if *proto != "" && protoName(f.Proto) != *proto {
			return
		}
		line = printer(line[:0], f, reason)
		if _, err := bw.Write(line); err != nil && writeErr == nil {
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

// flowFields are the fields of `flows --format csv|json`, in order.
var flowFields = []string{"flow_id", "proto", "client_ip", "client_port", "server_ip", "server_port",
	"pkts_up", "bytes_up", "frame_bytes_up", "pkts_down", "bytes_down", "frame_bytes_down",
	"start", "duration_s", "end"}

// endReasonsDoc explains the values of the end field (flows.EndReason).
const endReasonsDoc = "closed = FIN both ways or a RST (ended after a short linger); idle = no packet for\n" +
	"--idle-timeout (TCP) or --udp-timeout (UDP); reused = a new SYN on the 5-tuple of a closed\n" +
	"connection; evicted = --max-flows reached, the oldest flow was ended early; flush = still open\n" +
	"when the capture ended (or the run was interrupted)."

// A flowWriter appends one flow's line to b.
type flowWriter func(b []byte, f *flows.Flow, reason flows.EndReason) []byte

const flowTimeFormat = "2006-01-02T15:04:05.000000Z"

func writeFlowText(b []byte, f *flows.Flow, reason flows.EndReason) []byte {
	return fmt.Appendf(b, flowLine, f.ID, protoName(f.Proto),
		f.Client, f.Server, f.Up.Pkts, f.Up.Bytes, f.Down.Pkts, f.Down.Bytes,
		f.First.UTC().Format(flowTimeFormat), f.Duration().Seconds(), reason)
}

// writeFlowCSV writes flowFields as RFC 4180 CSV; no field can hold a
// comma or a quote (addresses, numbers, fixed words), so none is quoted.
func writeFlowCSV(b []byte, f *flows.Flow, reason flows.EndReason) []byte {
	b = strconv.AppendUint(b, f.ID, 10)
	b = append(b, ',')
	b = append(b, protoName(f.Proto)...)
	b = append(b, ',')
	b = f.Client.Addr().AppendTo(b)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(f.Client.Port()), 10)
	b = append(b, ',')
	b = f.Server.Addr().AppendTo(b)
	for _, v := range []uint64{uint64(f.Server.Port()), f.Up.Pkts, f.Up.Bytes, f.Up.Frames, f.Down.Pkts, f.Down.Bytes, f.Down.Frames} {
		b = append(b, ',')
		b = strconv.AppendUint(b, v, 10)
	}
	b = append(b, ',')
	b = f.First.UTC().AppendFormat(b, flowTimeFormat)
	b = append(b, ',')
	b = strconv.AppendFloat(b, f.Duration().Seconds(), 'f', 6, 64)
	b = append(b, ',')
	b = append(b, reason.String()...)
	return append(b, '\n')
}

// writeFlowJSON writes flowFields as one JSON object: numbers as numbers,
// addresses, times and words as strings (all ASCII without quotes or
// backslashes, so they need no escaping).
func writeFlowJSON(b []byte, f *flows.Flow, reason flows.EndReason) []byte {
	str := func(b []byte, k string, v func([]byte) []byte) []byte {
		b = append(b, `,"`...)
		b = append(b, k...)
		b = append(b, `":"`...)
		return append(v(b), '"')
	}
	num := func(b []byte, k string, v uint64) []byte {
		b = append(b, `,"`...)
		b = append(b, k...)
		b = append(b, `":`...)
		return strconv.AppendUint(b, v, 10)
	}
	b = append(b, `{"flow_id":`...)
	b = strconv.AppendUint(b, f.ID, 10)
	b = str(b, "proto", func(b []byte) []byte { return append(b, protoName(f.Proto)...) })
	b = str(b, "client_ip", f.Client.Addr().AppendTo)
	b = num(b, "client_port", uint64(f.Client.Port()))
	b = str(b, "server_ip", f.Server.Addr().AppendTo)
	b = num(b, "server_port", uint64(f.Server.Port()))
	b = num(b, "pkts_up", f.Up.Pkts)
	b = num(b, "bytes_up", f.Up.Bytes)
	b = num(b, "frame_bytes_up", f.Up.Frames)
	b = num(b, "pkts_down", f.Down.Pkts)
	b = num(b, "bytes_down", f.Down.Bytes)
	b = num(b, "frame_bytes_down", f.Down.Frames)
	b = str(b, "start", func(b []byte) []byte { return f.First.UTC().AppendFormat(b, flowTimeFormat) })
	b = append(b, `,"duration_s":`...)
	b = strconv.AppendFloat(b, f.Duration().Seconds(), 'f', 6, 64)
	b = str(b, "end", func(b []byte) []byte { return append(b, reason.String()...) })
	return append(b, "}\n"...)
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
