package intel

import (
	"strings"
)

// ndpiFormat: nDPI host lists ("name<TAB>protocol-id", e.g. nDPI's
// example/mining_hosts.txt); the protocol id is ignored.
func ndpiFormat() Format {
	return Format{
		Name: "ndpi",
		Doc:  "nDPI host list: 'name<TAB>protocol-id' lines, # comments",
		sniff: func(h *head) bool {
			return h.all(func(s string) bool {
				name, id, ok := strings.Cut(s, "\t")
				return ok && name != "" && isDigits(strings.TrimSpace(id))
			})
		},
		parse: func(l *loader) error {
			l.lines(func(n int, line string) {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					return
				}
				f := strings.Fields(line)
				if len(f) > 2 || (len(f) == 2 && !isDigits(f[1])) {
					l.warn(n, "not an nDPI host line (want NAME<TAB>ID): %q", line)
					return
				}
				l.addValue(n, f[0], "")
			})
			return nil
		},
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
