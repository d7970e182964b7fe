package intel

import (
	"strings"
)

// plainFormat: one indicator per line (see ParseValue), optionally
// followed by an expiry (date or TTL from the list's date) and a "# note".
// "# Reference: URL" comment lines annotate the entries that follow them,
// as in Maltrail trails; the curated default list uses the same syntax.
func plainFormat() Format {
	return Format{
		Name:  "plain",
		Doc:   "one IP, IP:port, CIDR[:port], domain or ^exact.domain per line; optional expiry; # comments",
		Exts:  nil,
		sniff: func(*head) bool { return true },
		parse: parseList,
	}
}

// maltrailFormat: Maltrail static trails (trails/static/…): the plain
// syntax, with "# Reference:" blocks as notes; a URL trail without a path
// stands for its host.
func maltrailFormat() Format {
	return Format{
		Name: "maltrail",
		Doc:  "Maltrail static trail: ip:port, IP, domain or URL per line, '# Reference:' blocks become notes",
		sniff: func(h *head) bool {
			return strings.Contains(h.comments, "Maltrail") || strings.Contains(h.comments, "# Reference:")
		},
		parse: parseList,
	}
}

func parseList(l *loader) error {
	var refs []string
	note := ""
	inBlock := false // true once an entry followed the current references
	l.lines(func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" {
			return
		}
		if c, ok := strings.CutPrefix(line, "#"); ok {
			c = strings.TrimSpace(c)
			if ref, ok := cutKey(c, "reference:", "source:"); ok {
				if inBlock {
					refs, inBlock = refs[:0], false
				}
				refs = append(refs, ref)
				note = strings.Join(refs, " ")
			}
			return
		}
		inBlock = true
		entryNote := note
		if i := strings.Index(line, " #"); i >= 0 {
			entryNote = strings.TrimSpace(line[i+2:])
			line = strings.TrimSpace(line[:i])
		} else if i := strings.Index(line, "\t#"); i >= 0 {
			entryNote = strings.TrimSpace(line[i+2:])
			line = strings.TrimSpace(line[:i])
		}
		fields := strings.Fields(line)
		if len(fields) > 2 {
			l.warn(n, "%d fields: want VALUE [EXPIRY] [# note]", len(fields))
			return
		}
		e, err := ParseValue(fields[0])
		if err != nil {
			l.warn(n, "%v", err)
			return
		}
		if len(fields) == 2 {
			if e.Expires, err = parseExpiry(fields[1], l.date); err != nil {
				l.warn(n, "%v", err)
				return
			}
		}
		e.Note = entryNote
		l.add(e)
	})
	return nil
}

// cutKey strips a case-insensitive "key:" prefix.
func cutKey(s string, keys ...string) (string, bool) {
	for _, k := range keys {
		if len(s) >= len(k) && strings.EqualFold(s[:len(k)], k) {
			return strings.TrimSpace(s[len(k):]), true
		}
	}
	return "", false
}
