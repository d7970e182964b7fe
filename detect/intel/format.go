package intel

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Format is one list syntax that Load understands. Every format is one
// file of this package and one row of Formats.
type Format struct {
	Name string
	// Doc is the one-line description shown by `minerwatch intel import --help`.
	Doc string
	// Exts are file-name endings that select the format outright.
	Exts []string
	// sniff reports whether the first lines look like this format.
	sniff func(h *head) bool
	// parse reads every line, calling l.add and l.warn.
	parse func(l *loader) error
}

// Formats lists the formats, in auto-detection order (the first whose
// sniff matches wins; "plain" matches anything).
func Formats() []Format {
	return []Format{csvFormat(), hostsFormat(), ndpiFormat(), maltrailFormat(), plainFormat()}
}

// FormatNames lists the names accepted as LoadOptions.Format.
func FormatNames() []string {
	var n []string
	for _, f := range Formats() {
		n = append(n, f.Name)
	}
	return n
}

// LoadOptions controls how one list is read.
type LoadOptions struct {
	// Format forces a format by name; "" detects it from the file name
	// and content.
	Format string
	// Source names the list in hits; "" = the file's base name.
	Source string
	// TTL, when set, makes entries that carry no expiry of their own
	// expire TTL after the source's date.
	TTL time.Duration
	// Date is the source's date, the base of TTLs. Zero = the date in the
	// list's header comment (Date:, Last modified:, Updated:), else the
	// file's modification time, else Now.
	Date time.Time
	// Now is the load time (zero = time.Now()).
	Now time.Time

	fallback time.Time // the file's modification time
}

// Warning is an invalid line that was skipped.
type Warning struct {
	File   string
	Line   int
	Reason string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Reason) }

// maxWarnings bounds the warnings kept per file; the rest are counted.
const maxWarnings = 100

// Result reports one load.
type Result struct {
	File     string
	Format   string
	Source   string
	Entries  int // entries added
	Invalid  int // lines skipped as invalid (≥ len(Warnings))
	Warnings []Warning
}

// LoadFile reads the list at path into s.
func (s *Set) LoadFile(path string, o LoadOptions) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{File: path}, fmt.Errorf("intel list: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		o.fallback = st.ModTime()
	}
	return s.Load(f, path, o)
}

// Load reads a list from r; name is used in warnings, for format
// detection and as the default source.
func (s *Set) Load(r io.Reader, name string, o LoadOptions) (Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return Result{File: name}, fmt.Errorf("read %s: %w", name, err)
	}
	h := newHead(data)
	f, err := pickFormat(name, o.Format, h)
	if err != nil {
		return Result{File: name}, err
	}
	src := o.Source
	if src == "" {
		src = filepath.Base(name)
	}
	l := &loader{set: s, opts: o, res: Result{File: name, Format: f.Name, Source: src}, data: data}
	l.date = o.Date
	if l.date.IsZero() {
		l.date = h.date
	}
	if l.date.IsZero() {
		l.date = o.fallback
	}
	if l.date.IsZero() {
		l.date = o.Now
	}
	if err := f.parse(l); err != nil {
		return l.res, fmt.Errorf("%s: %w", name, err)
	}
	return l.res, nil
}

func pickFormat(name, force string, h *head) (Format, error) {
	fs := Formats()
	if force != "" {
		for _, f := range fs {
			if f.Name == force {
				return f, nil
			}
		}
		return Format{}, fmt.Errorf("unknown list format %q (known: %s)", force, strings.Join(FormatNames(), ", "))
	}
	low := strings.ToLower(name)
	for _, f := range fs {
		for _, e := range f.Exts {
			if strings.HasSuffix(low, e) {
				return f, nil
			}
		}
	}
	for _, f := range fs {
		if f.sniff(h) {
			return f, nil
		}
	}
	return plainFormat(), nil
}

// head is what format detection sees: comment text and the first data lines.
type head struct {
	comments string
	lines    []string
	date     time.Time
}

var headerDate = regexp.MustCompile(`(?i)^#\s*(?:date|last[ -]modified|updated|last updated)\s*:\s*(.+?)\s*$`)

func newHead(data []byte) *head {
	h := &head{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var comments strings.Builder
	for n := 0; sc.Scan() && n < 200 && len(h.lines) < 20; n++ {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		switch {
		case line == "":
		case strings.HasPrefix(line, "#") || strings.HasPrefix(line, "!"):
			comments.WriteString(line)
			comments.WriteByte('\n')
			if m := headerDate.FindStringSubmatch(line); m != nil && h.date.IsZero() {
				h.date = parseLooseDate(m[1])
			}
		default:
			h.lines = append(h.lines, line)
		}
	}
	h.comments = comments.String()
	return h
}

// all reports whether every sampled data line satisfies ok.
func (h *head) all(ok func(string) bool) bool {
	if len(h.lines) == 0 {
		return false
	}
	for _, l := range h.lines {
		if !ok(l) {
			return false
		}
	}
	return true
}

var looseLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05",
	"2006-01-02", "02 January 2006", "2 January 2006", "January 2, 2006", "02 Jan 2006", time.RFC1123Z, time.RFC1123,
}

// parseLooseDate parses the dates list headers use; zero if none fits.
func parseLooseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, l := range looseLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// loader is the state of one Load, shared by the format parsers.
type loader struct {
	set  *Set
	opts LoadOptions
	res  Result
	data []byte
	date time.Time
}

// lines calls fn for every line with its 1-based number, the trailing
// CR removed.
func (l *loader) lines(fn func(n int, line string)) {
	data := l.data
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		fn(n, string(line))
	}
}

func (l *loader) warn(line int, format string, args ...any) {
	l.res.Invalid++
	if len(l.res.Warnings) < maxWarnings {
		l.res.Warnings = append(l.res.Warnings, Warning{File: l.res.File, Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

// add stores e with the list's source and the default expiry, unless the
// entry has expired already (a list entry past its date is not an error).
func (l *loader) add(e Entry) {
	if e.Source == "" {
		e.Source = l.res.Source
	}
	if e.Expires.IsZero() && l.opts.TTL > 0 {
		e.Expires = l.date.Add(l.opts.TTL)
	}
	l.set.Add(e)
	l.res.Entries++
}

// addValue parses v and adds it, or warns with the line number.
func (l *loader) addValue(line int, v, note string) {
	e, err := ParseValue(v)
	if err != nil {
		l.warn(line, "%v", err)
		return
	}
	e.Note = note
	l.add(e)
}

// parseExpiry reads an expiry cell: "" or "never" (none), an absolute
// date/time, or a TTL ("30d", "2w", "36h", Go durations) counted from base.
func parseExpiry(s string, base time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "never") {
		return time.Time{}, nil
	}
	if d, err := ParseTTL(strings.TrimPrefix(s, "+")); err == nil {
		return base.Add(d), nil
	}
	if t := parseLooseDate(s); !t.IsZero() {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("bad expiry %q (want a date like 2026-12-31, RFC 3339, or a TTL like 30d)", s)
}

// ParseTTL parses a duration with the day and week units lists use
// ("7d", "2w", "1d12h") as well as Go's ("36h", "90m").
func ParseTTL(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 || i == len(rest) {
			break
		}
		var unit time.Duration
		switch rest[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, err
			}
			return total + d, nil
		}
		var n int
		fmt.Sscanf(rest[:i], "%d", &n)
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest != "" || s == "" {
		return 0, fmt.Errorf("bad TTL %q", s)
	}
	return total, nil
}
