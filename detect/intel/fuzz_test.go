package intel

import (
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary list text to every format: loading never
// panics, and every line is either an entry or a warning with its line.
func FuzzLoad(f *testing.F) {
	f.Add("pool.test\n1.2.3.4:3333 7d # note\n^x.test\n10.0.0.0/8\n")
	f.Add("0.0.0.0 a.test b.test\n# Date: 2026-01-01\n")
	f.Add("value,type,source,expiry\n\"a.test\",domain,,30d\n")
	f.Add("# Reference: http://x\nhttp://1.2.3.4:80\n[::1]:5\n")
	f.Fuzz(func(t *testing.T, list string) {
		for _, name := range FormatNames() {
			s := NewSet()
			res, err := s.Load(strings.NewReader(list), "f", LoadOptions{Format: name, Now: t0})
			if err != nil {
				continue // e.g. a CSV without a value column
			}
			for _, w := range res.Warnings {
				if w.Line < 1 {
					t.Fatalf("%s: warning without a line: %s", name, w)
				}
			}
			for e := range s.All() {
				if _, err := ParseValue(e.Value()); err != nil {
					t.Fatalf("%s: entry %q does not read back: %v", name, e.Value(), err)
				}
				s.MatchDomain(e.Domain, t0)
			}
		}
	})
}
