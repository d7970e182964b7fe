package intel

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// csvFormat: comma-separated lists with a header row. Columns are found by
// name, so both minerwatch's own export (value,type,source,expiry,note)
// and pool inventories such as AdamYoung71/mining-pool-domain-intel
// (domain,port,scheme,pool_name,coin,…,confidence,status,first_seen,
// last_seen,notes) load:
//
//   - value: value | indicator | ioc | domain | host | hostname | ip | address
//   - type (optional): ip, cidr, domain (suffix) or exact; checked against the value
//   - port (optional): makes an IP value an IP:port entry
//   - source (optional): overrides the list's source for the row
//   - expiry (optional): expiry | expires | expiration — a date or a TTL
//   - date (optional): last_seen | date | updated — the base of TTLs for the row
//   - note | notes | comment | description, plus pool_name, coin,
//     confidence and status, which are kept in the note
func csvFormat() Format {
	return Format{
		Name: "csv",
		Doc:  "CSV with a header: value,type,source,expiry[,note] or a pool inventory (domain,port,…,confidence,status,…)",
		Exts: []string{".csv"},
		sniff: func(h *head) bool {
			if len(h.lines) == 0 {
				return false
			}
			cols := splitHeader(h.lines[0])
			_, ok := findCol(cols, valueCols...)
			return ok && len(cols) >= 2
		},
		parse: parseCSV,
	}
}

var (
	valueCols  = []string{"value", "indicator", "ioc", "domain", "host", "hostname", "ip", "address"}
	expiryCols = []string{"expiry", "expires", "expiration", "valid_until"}
	dateCols   = []string{"last_seen", "date", "updated"}
	noteCols   = []string{"note", "notes", "comment", "description"}
	// noteParts are inventory columns worth keeping in the note, in order.
	noteParts = []string{"pool_name", "coin", "confidence", "status"}
)

func splitHeader(line string) []string {
	f := strings.Split(line, ",")
	for i := range f {
		f[i] = strings.ToLower(strings.Trim(strings.TrimSpace(f[i]), `"`))
	}
	return f
}

func findCol(cols []string, names ...string) (int, bool) {
	for _, n := range names {
		for i, c := range cols {
			if c == n {
				return i, true
			}
		}
	}
	return -1, false
}

func parseCSV(l *loader) error {
	// Comment lines before the header are allowed (our export writes one).
	data := l.data
	skipped := 0
	for len(data) > 0 && (data[0] == '#' || data[0] == '\n' || data[0] == '\r') {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			data = nil
			break
		}
		data = data[i+1:]
		skipped++
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.Comment = '#'
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("csv header: %w", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	vi, ok := findCol(cols, valueCols...)
	if !ok {
		return fmt.Errorf("csv header %q has no value column (one of %s)", strings.Join(cols, ","), strings.Join(valueCols, ", "))
	}
	ti, hasType := findCol(cols, "type", "kind")
	pi, hasPort := findCol(cols, "port")
	si, hasSrc := findCol(cols, "source")
	ei, hasExp := findCol(cols, expiryCols...)
	di, hasDate := findCol(cols, dateCols...)
	ni, hasNote := findCol(cols, noteCols...)
	var parts []int
	for _, p := range noteParts {
		if i, ok := findCol(cols, p); ok {
			parts = append(parts, i)
		}
	}
	cell := func(rec []string, i int, has bool) string {
		if !has || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		line += skipped
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				l.warn(pe.Line+skipped, "%v", pe.Err)
				continue
			}
			return err
		}
		v := cell(rec, vi, true)
		if v == "" {
			l.warn(line, "empty value")
			continue
		}
		e, err := ParseValue(v)
		if err != nil {
			l.warn(line, "%v", err)
			continue
		}
		if p := cell(rec, pi, hasPort); p != "" {
			port, err := parsePort(p)
			if err != nil {
				l.warn(line, "%v", err)
				continue
			}
			if e.Port != 0 && e.Port != port {
				l.warn(line, "value %q and port column %d disagree", v, port)
				continue
			}
			e.Port = port
		}
		if t := strings.ToLower(cell(rec, ti, hasType)); t != "" {
			if t == "exact" && e.Kind == KindSuffix {
				e.Kind = KindExact
			}
			if !typeFits(t, e.Kind) {
				l.warn(line, "type %q does not fit value %q (a %s)", t, v, e.Kind)
				continue
			}
		}
		if s := cell(rec, si, hasSrc); s != "" {
			e.Source = s
		}
		base := l.date
		if d := cell(rec, di, hasDate); d != "" {
			if t := parseLooseDate(d); !t.IsZero() {
				base = t
			}
		}
		if x := cell(rec, ei, hasExp); x != "" {
			if e.Expires, err = parseExpiry(x, base); err != nil {
				l.warn(line, "%v", err)
				continue
			}
		} else if l.opts.TTL > 0 {
			e.Expires = base.Add(l.opts.TTL)
		}
		var note []string
		for _, i := range parts {
			if c := cell(rec, i, true); c != "" {
				note = append(note, cols[i]+"="+c)
			}
		}
		if n := cell(rec, ni, hasNote); n != "" {
			note = append(note, n)
		}
		e.Note = strings.Join(note, " ")
		l.add(e)
	}
	return nil
}

func typeFits(t string, k Kind) bool {
	switch t {
	case "ip", "ip:port", "address", "addr":
		return k == KindAddr
	case "cidr", "net", "network", "prefix":
		return k == KindCIDR || k == KindAddr
	case "domain", "suffix", "host", "hostname":
		return k == KindSuffix
	case "exact":
		return k == KindExact
	}
	return false
}

// WriteCSV writes entries in minerwatch's CSV list format
// (value,type,source,expiry,note) — what `minerwatch intel import` and
// `export` produce and every loader reads back.
func WriteCSV(w io.Writer, entries func(yield func(Entry) bool)) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"value", "type", "source", "expiry", "note"})
	for e := range entries {
		exp := ""
		if !e.Expires.IsZero() {
			exp = e.Expires.UTC().Format(time.RFC3339)
		}
		if err := cw.Write([]string{e.Value(), e.Kind.String(), e.Source, exp, e.Note}); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
