package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/internal/outfile"
)

// intelCommands are the sub-subcommands of `minerwatch intel`.
var intelCommands = map[string]struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}{
	"list":   {"show the learned pool endpoints (or, with --default, the shipped list; with --kafka, the learned topic)", intelList},
	"add":    {"add an endpoint to the learned list (--kafka: to the learned topic)", intelAdd},
	"remove": {"remove an endpoint from the learned list (--kafka: from the learned topic)", intelRemove},
	"expire": {"drop expired entries from the learned list (--kafka: from the learned topic)", intelExpire},
	"export": {"write the learned list as JSON lines or as a CSV intel list", intelExport},
	"import": {"read public feeds (Maltrail, hosts, nDPI, CSV, plain) and write one CSV intel list", intelImport},
	"check":  {"say whether a name or address matches the lists", intelCheck},
}

func runIntel(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		fmt.Fprintf(w, "Usage: minerwatch intel <command> [flags]\n\nManage threat-intelligence lists and the learned pool list.\n\nCommands:\n")
		names := make([]string, 0, len(intelCommands))
		for n := range intelCommands {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-7s %s\n", n, intelCommands[n].summary)
		}
		fmt.Fprintf(w, "\nList formats: %s. Entries: IP, IP:port, CIDR[:port], domain (suffix match\non label boundaries), ^domain (exact). Run 'minerwatch intel <command> --help' for flags.\n",
			strings.Join(intel.FormatNames(), ", "))
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := intelCommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "minerwatch intel: unknown command %q (run 'minerwatch intel --help')\n", args[0])
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func learnedFlag(fs interface {
	StringVar(*string, string, string, string)
}, p *string) {
	fs.StringVar(p, "learned", intel.DefaultLearnedPath(), "learned pool list `FILE` (JSON lines)")
}

func openLearned(path string, stderr io.Writer) (*intel.Learned, error) {
	l, warns, err := intel.OpenLearned(path)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return l, err
}

func intelList(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel list", "[--learned FILE] [--default]", "Print the learned pool endpoints, one per line; --default prints the shipped default list instead.", stderr)
	var path string
	var def, all bool
	learnedFlag(fs, &path)
	fs.BoolVar(&def, "default", false, "print the shipped default list (as CSV)")
	fs.BoolVar(&all, "all", false, "include expired entries")
	var ko kafkaOptions
	kafkaConnFlags(fs, &ko)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return fail(stderr, "intel list", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if ko.brokers != "" && !def {
		if err := learnedTopicList(ko, all, stdout); err != nil {
			return fail(stderr, "intel list", err)
		}
		return 0
	}
	if def {
		s, err := intel.DefaultList()
		if err != nil {
			return fail(stderr, "intel list", err)
		}
		if err := intel.WriteCSV(stdout, s.All()); err != nil {
			return fail(stderr, "intel list", err)
		}
		return 0
	}
	l, err := openLearned(path, stderr)
	if err != nil {
		return fail(stderr, "intel list", err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tREASON\tEVIDENCE\tDOMAIN\tSOURCE\tEXPIRES")
	for _, e := range l.Entries() {
		if !all && !now.Before(e.Expires) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Key(), e.Reason, dash(e.Evidence), dash(e.Domain), dash(e.Source), e.Expires.UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, "intel list", err)
	}
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func intelAdd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel add", "IP[:PORT] [--domain NAME] [--ttl 7d] [--source TEXT]",
		"Add a pool endpoint to the learned list (port 0 or none = every port).", stderr)
	var path, domain, source, ttl string
	learnedFlag(fs, &path)
	fs.StringVar(&domain, "domain", "", "pool host name behind the endpoint")
	fs.StringVar(&source, "source", "manual", "where the knowledge comes from")
	fs.StringVar(&ttl, "ttl", "7d", "how long the entry stays (e.g. 36h, 7d, 2w)")
	var ko kafkaOptions
	kafkaConnFlags(fs, &ko)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return fail(stderr, "intel add", errors.New("want exactly one IP or IP:PORT"))
	}
	addr, port, err := intel.ParseEndpoint(fs.Arg(0))
	if err != nil {
		return fail(stderr, "intel add", err)
	}
	d, err := intel.ParseTTL(ttl)
	if err != nil || d <= 0 {
		return fail(stderr, "intel add", fmt.Errorf("bad --ttl %q", ttl))
	}
	now := time.Now()
	e := intel.LearnedEntry{Addr: addr, Port: port, Domain: domain, Reason: intel.ReasonManual, Source: source, Added: now, Expires: now.Add(d)}
	if ko.brokers != "" {
		if err := learnedTopicAdd(ko, e); err != nil {
			return fail(stderr, "intel add", err)
		}
		fmt.Fprintf(stdout, "added %s until %s (to the learned topic)\n", e.Key(), e.Expires.UTC().Format(time.RFC3339))
		return 0
	}
	l, err := openLearned(path, stderr)
	if err != nil {
		return fail(stderr, "intel add", err)
	}
	l.Add(e)
	if err := l.Save(); err != nil {
		return fail(stderr, "intel add", err)
	}
	fmt.Fprintf(stdout, "added %s until %s\n", e.Key(), e.Expires.UTC().Format(time.RFC3339))
	return 0
}

func intelRemove(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel remove", "IP[:PORT]...", "Remove endpoints from the learned list (with --kafka: write tombstones to the learned topic).", stderr)
	var path string
	learnedFlag(fs, &path)
	var ko kafkaOptions
	kafkaConnFlags(fs, &ko)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return fail(stderr, "intel remove", errors.New("want at least one IP or IP:PORT"))
	}
	type ep struct {
		a netip.Addr
		p uint16
	}
	var eps []ep
	for _, s := range fs.Args() {
		a, p, err := intel.ParseEndpoint(s)
		if err != nil {
			return fail(stderr, "intel remove", err)
		}
		eps = append(eps, ep{a, p})
	}
	if ko.brokers != "" {
		if err := learnedTopicRemove(ko, fs.Args()); err != nil {
			return fail(stderr, "intel remove", err)
		}
		fmt.Fprintf(stdout, "removed %d (tombstones written to the learned topic)\n", len(eps))
		return 0
	}
	l, err := openLearned(path, stderr)
	if err != nil {
		return fail(stderr, "intel remove", err)
	}
	for i, e := range eps {
		if !l.Remove(e.a, e.p) {
			return fail(stderr, "intel remove", fmt.Errorf("%s is not in %s", fs.Arg(i), path))
		}
	}
	if err := l.Save(); err != nil {
		return fail(stderr, "intel remove", err)
	}
	fmt.Fprintf(stdout, "removed %d\n", len(eps))
	return 0
}

func intelExpire(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel expire", "[--at TIME]", "Drop entries of the learned list that have expired.", stderr)
	var path, at string
	learnedFlag(fs, &path)
	fs.StringVar(&at, "at", "", "expire as of this RFC 3339 time instead of now")
	var ko kafkaOptions
	kafkaConnFlags(fs, &ko)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return fail(stderr, "intel expire", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	now := time.Now()
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return fail(stderr, "intel expire", fmt.Errorf("bad --at %q (want RFC 3339)", at))
		}
		now = t
	}
	if ko.brokers != "" {
		n, left, err := learnedTopicExpire(ko, now)
		if err != nil {
			return fail(stderr, "intel expire", err)
		}
		fmt.Fprintf(stdout, "expired %d, %d left (in the learned topic)\n", n, left)
		return 0
	}
	l, err := openLearned(path, stderr)
	if err != nil {
		return fail(stderr, "intel expire", err)
	}
	n := l.Expire(now)
	if err := l.Save(); err != nil {
		return fail(stderr, "intel expire", err)
	}
	fmt.Fprintf(stdout, "expired %d, %d left\n", n, l.Len())
	return 0
}

func intelExport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel export", "[--format jsonl|csv] [-o FILE]",
		"Write the learned list: jsonl (the file format) or csv (an intel list for --intel on another sensor).", stderr)
	var path, format, out string
	learnedFlag(fs, &path)
	fs.StringVar(&format, "format", "jsonl", "output `FORMAT`: jsonl or csv")
	fs.StringVar(&out, "o", "", "output `FILE` (default stdout); written atomically")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if format != "jsonl" && format != "csv" {
		return fail(stderr, "intel export", fmt.Errorf("bad --format %q (want jsonl or csv)", format))
	}
	l, err := openLearned(path, stderr)
	if err != nil {
		return fail(stderr, "intel export", err)
	}
	err = writeOut(out, []string{l.Path()}, stdout, func(w io.Writer) error {
		if format == "csv" {
			return intel.WriteCSV(w, l.AsEntries())
		}
		return l.WriteJSONL(w)
	})
	if err != nil {
		return fail(stderr, "intel export", err)
	}
	return 0
}

func intelImport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel import", "[--format NAME] [--source NAME] [--ttl D] [-o FILE] FILE...",
		"Read intel feeds in any supported format (detected per file, or --format for all) and write\none CSV list (value,type,source,expiry,note) for 'minerwatch detect --intel'.\nInvalid lines are reported as FILE:LINE: reason and skipped.\nFormats: "+strings.Join(formatDocs(), "\n         "), stderr)
	var format, source, ttl, out string
	var strict bool
	fs.StringVar(&format, "format", "", "force input `FORMAT` ("+strings.Join(intel.FormatNames(), ", ")+")")
	fs.StringVar(&source, "source", "", "source name for the entries (default: each file's name)")
	fs.StringVar(&ttl, "ttl", "", "entries without their own expiry expire this long after the feed's date (e.g. 90d)")
	fs.StringVar(&out, "o", "", "output `FILE` (default stdout); written atomically")
	fs.BoolVar(&strict, "strict", false, "exit non-zero if any line was invalid")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return fail(stderr, "intel import", errors.New("want at least one list file"))
	}
	o := intel.LoadOptions{Format: format, Source: source}
	if ttl != "" {
		d, err := intel.ParseTTL(ttl)
		if err != nil || d <= 0 {
			return fail(stderr, "intel import", fmt.Errorf("bad --ttl %q", ttl))
		}
		o.TTL = d
	}
	if format != "" && !contains(intel.FormatNames(), format) {
		return fail(stderr, "intel import", fmt.Errorf("unknown --format %q (known: %s)", format, strings.Join(intel.FormatNames(), ", ")))
	}
	s := intel.NewSet()
	invalid, read := 0, 0
	for _, p := range fs.Args() {
		before := s.Len()
		res, err := s.LoadFile(p, o)
		for _, w := range res.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		if more := res.Invalid - len(res.Warnings); more > 0 {
			fmt.Fprintf(stderr, "warning: %s: %d more invalid lines\n", p, more)
		}
		if err != nil {
			return fail(stderr, "intel import", err)
		}
		invalid += res.Invalid
		read += res.Entries
		// An entry whose value and source are already listed (Maltrail
		// lists a domain under several comments) replaces the earlier one.
		fmt.Fprintf(stderr, "%s: %s, %d entries, %d invalid lines, %d duplicates merged\n",
			p, res.Format, res.Entries, res.Invalid, res.Entries-(s.Len()-before))
	}
	if err := writeOut(out, fs.Args(), stdout, func(w io.Writer) error { return intel.WriteCSV(w, s.All()) }); err != nil {
		return fail(stderr, "intel import", err)
	}
	dest, use := "standard output", "save it with -o FILE"
	if out != "" && out != "-" {
		dest, use = out, "use it with: minerwatch detect --intel "+out
	}
	fmt.Fprintf(stderr, "%d entries read, %d duplicates merged, %d rows written to %s (%s)\n", read, read-s.Len(), s.Len(), dest, use)
	if strict && invalid > 0 {
		return fail(stderr, "intel import", fmt.Errorf("%d invalid lines (--strict)", invalid))
	}
	return 0
}

func formatDocs() []string {
	var d []string
	for _, f := range intel.Formats() {
		d = append(d, fmt.Sprintf("%-8s %s", f.Name, f.Doc))
	}
	return d
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func intelCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("intel check", "NAME|IP[:PORT]... [--intel FILE] [--allow FILE] [--no-default-intel]",
		"Say whether each name or address matches the lists (default list, --intel lists, learned list;\nthe allowlist wins). Prints one JSON object per argument; exits 1 when nothing matched.", stderr)
	var lists, allow multiFlag
	var noDefault bool
	var path string
	fs.Var(&lists, "intel", "extra intel list `FILE` (\"format:path\" to force a format); repeatable")
	fs.Var(&allow, "allow", "allowlist `FILE`; repeatable")
	fs.BoolVar(&noDefault, "no-default-intel", false, "do not load the shipped default list")
	learnedFlag(fs, &path)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return fail(stderr, "intel check", errors.New("want at least one name or address"))
	}
	in, warns, err := intel.Load(intel.Options{NoDefault: noDefault, Lists: lists, Allow: allow, LearnedPath: path})
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return fail(stderr, "intel check", err)
	}
	now := time.Now()
	matched := 0
	enc := json.NewEncoder(stdout)
	for _, q := range fs.Args() {
		var h intel.Hit
		var ok bool
		if a, p, err := intel.ParseEndpoint(q); err == nil {
			h, ok = in.CheckFlow(netip.AddrPort{}, netip.AddrPortFrom(a, p), now)
		} else {
			h, ok = in.CheckDomain(q, now)
			h.Kind = intel.MatchDNSQuery
		}
		out := struct {
			Query string      `json:"query"`
			Match bool        `json:"match"`
			Intel interface{} `json:"intel,omitempty"`
		}{Query: q, Match: ok}
		if ok {
			matched++
			out.Intel = h.Alert()
		}
		enc.Encode(out)
	}
	if matched == 0 {
		return 1
	}
	return 0
}

// writeOut writes to stdout, or to path through internal/outfile (a temp
// file renamed into place, so a failed run never leaves half a list; a
// device or FIFO written through). An output that is one of inputs is
// refused. Mode 0640: the lists say which endpoints this site's hosts
// mined on.
func writeOut(path string, inputs []string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "" {
		return fn(stdout)
	}
	out, err := outfile.Create(path, outfile.Options{Perm: 0o640, Inputs: inputs, Stdout: stdout})
	if err != nil {
		return err
	}
	if err := fn(out); err != nil {
		out.Abort()
		return err
	}
	return out.Commit()
}
