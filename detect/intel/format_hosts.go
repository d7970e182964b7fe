package intel

import (
	"net/netip"
	"strings"
)

// hostsFormat: hosts-file blocklists ("0.0.0.0 name [name…]", as NoCoin,
// blocklistproject and anudeepND publish them). The address is ignored;
// each name becomes a suffix entry. The usual loopback names of a real
// hosts file are skipped silently — they are not indicators.
func hostsFormat() Format {
	return Format{
		Name: "hosts",
		Doc:  "hosts file: '0.0.0.0 name [name…]' lines, # comments",
		Exts: []string{".hosts"},
		sniff: func(h *head) bool {
			return h.all(func(s string) bool {
				f := strings.Fields(s)
				if len(f) < 2 {
					return false
				}
				_, err := netip.ParseAddr(f[0])
				return err == nil
			})
		},
		parse: func(l *loader) error {
			l.lines(func(n int, line string) {
				note := ""
				if i := strings.IndexByte(line, '#'); i >= 0 {
					note = strings.TrimSpace(line[i+1:])
					line = line[:i]
				}
				f := strings.Fields(line)
				if len(f) == 0 {
					return
				}
				if _, err := netip.ParseAddr(f[0]); err != nil || len(f) < 2 {
					l.warn(n, "not a hosts line (want ADDRESS NAME…): %q", strings.TrimSpace(line))
					return
				}
				for _, name := range f[1:] {
					if hostsBoilerplate(name) {
						continue
					}
					l.addValue(n, name, note)
				}
			})
			return nil
		},
	}
}

func hostsBoilerplate(name string) bool {
	switch strings.ToLower(name) {
	case "localhost", "localhost.localdomain", "local", "broadcasthost", "0.0.0.0",
		"ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix",
		"ip6-allnodes", "ip6-allrouters", "ip6-allhosts":
		return true
	}
	return false
}
