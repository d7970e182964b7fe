package manifest

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// Truth is a flow's ground truth.
type Truth uint8

const (
	Benign Truth = iota
	Mining
	Ignored
)

func (t Truth) String() string {
	return [...]string{"benign", "mining", "ignored"}[t]
}

// Rule selects flows: all of them, those touching an endpoint, or exact flows.
type Rule struct {
	All       bool
	Endpoints map[netip.AddrPort]bool
	Flows     map[[2]netip.AddrPort]bool // key in canonical order (smaller first)
}

// Empty reports whether the rule selects nothing.
func (r *Rule) Empty() bool { return !r.All && len(r.Endpoints) == 0 && len(r.Flows) == 0 }

// Match reports whether the flow between a and b is selected.
func (r *Rule) Match(a, b netip.AddrPort) bool {
	return r.All || r.Endpoints[a] || r.Endpoints[b] || r.Flows[flowKey(a, b)]
}

func flowKey(a, b netip.AddrPort) [2]netip.AddrPort {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

// Entry is one capture.
type Entry struct {
	Path     string // as written, relative to the manifest's folder
	File     string // resolved path
	Label    string
	Mining   Rule
	Scenario string
	Ignore   Rule
	Note     string
	Line     int
}

// Truth returns the truth of the flow between client and server.
func (e *Entry) Truth(client, server netip.AddrPort) Truth {
	switch {
	case e.Mining.Match(client, server):
		return Mining
	case e.Ignore.Match(client, server):
		return Ignored
	}
	return Benign
}

// Manifest is a parsed manifest.
type Manifest struct {
	Dir     string
	Entries []Entry
}

// Load reads and validates the manifest at path.
func Load(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	return Parse(f, path, filepath.Dir(path))
}

// Parse reads a manifest from r; name is used in errors, dir resolves relative paths.
func Parse(r io.Reader, name, dir string) (*Manifest, error) {
	m := &Manifest{Dir: dir}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseEntry(line, dir)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		e.Line = n
		m.Entries = append(m.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return m, nil
}

func parseEntry(line, dir string) (Entry, error) {
	c := strings.Split(line, "\t")
	if len(c) < 5 || len(c) > 6 {
		return Entry{}, fmt.Errorf("want 6 tab-separated columns (path label mining scenario ignore note), got %d", len(c))
	}
	for len(c) < 6 {
		c = append(c, "")
	}
	e := Entry{Path: c[0], File: filepath.Join(dir, c[0]), Label: c[1], Scenario: c[3], Note: c[5]}
	if e.Path == "" {
		return e, fmt.Errorf("empty path")
	}
	switch e.Label {
	case "mining", "benign", "mixed", "unknown":
	default:
		return e, fmt.Errorf("label %q: want mining, benign, mixed or unknown", e.Label)
	}
	var err error
	if e.Mining, err = parseRule(c[2], dir); err != nil {
		return e, fmt.Errorf("mining column: %w", err)
	}
	if e.Ignore, err = parseRule(c[4], dir); err != nil {
		return e, fmt.Errorf("ignore column: %w", err)
	}
	switch {
	case e.Label == "benign" && !e.Mining.Empty():
		return e, fmt.Errorf("a benign capture must have '-' in the mining column")
	case e.Label == "mining" && !e.Mining.All:
		return e, fmt.Errorf("a mining capture must have '*' in the mining column (use mixed)")
	case e.Label == "mixed" && (e.Mining.Empty() || e.Mining.All):
		return e, fmt.Errorf("a mixed capture needs endpoints or @FILE in the mining column")
	}
	return e, nil
}

func parseRule(s, dir string) (Rule, error) {
	var r Rule
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "-":
		return r, nil
	case s == "*":
		r.All = true
		return r, nil
	case strings.HasPrefix(s, "@"):
		return parseRuleFile(filepath.Join(dir, s[1:]))
	}
	r.Endpoints = map[netip.AddrPort]bool{}
	for _, f := range strings.Split(s, ",") {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(f))
		if err != nil {
			return r, fmt.Errorf("endpoint %q: %w", f, err)
		}
		r.Endpoints[ap] = true
	}
	return r, nil
}

func parseRuleFile(path string) (Rule, error) {
	r := Rule{Endpoints: map[netip.AddrPort]bool{}, Flows: map[[2]netip.AddrPort]bool{}}
	f, err := os.Open(path)
	if err != nil {
		return r, fmt.Errorf("read flow list: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		var aps [2]netip.AddrPort
		if len(fields) > 2 {
			return r, fmt.Errorf("%s:%d: want 'ip:port ip:port' or 'ip:port'", path, n)
		}
		for i, s := range fields {
			if aps[i], err = netip.ParseAddrPort(s); err != nil {
				return r, fmt.Errorf("%s:%d: %w", path, n, err)
			}
		}
		if len(fields) == 1 {
			r.Endpoints[aps[0]] = true
		} else {
			r.Flows[flowKey(aps[0], aps[1])] = true
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("read %s: %w", path, err)
	}
	return r, nil
}
