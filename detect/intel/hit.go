package intel

import (
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// MatchKind names how traffic met an entry; it is the alert's intel.match.
type MatchKind string

const (
	MatchIP        MatchKind = "ip"         // a flow's destination address (and port)
	MatchDNSQuery  MatchKind = "dns-query"  // a queried name
	MatchDNSAnswer MatchKind = "dns-answer" // an address resolved for a listed name, or a listed CNAME target
	MatchSNI       MatchKind = "sni"        // a TLS ClientHello server name
	MatchLearned   MatchKind = "learned"    // a pool endpoint confirmed earlier by the signature stage
)

// Hit is one match of traffic against an entry.
type Hit struct {
	Kind   MatchKind
	Entry  string // the entry in list syntax ("pool.supportxmr.com", "^x.org", "1.2.3.4:3333")
	Source string
	Note   string
	// Domain is the listed name behind a dns-answer or learned address.
	Domain string
	// Query is the DNS name or SNI seen in the traffic (normalised).
	Query   string
	Expires time.Time
}

// Alert returns the hit as the alert's intel sub-object.
func (h *Hit) Alert() *alert.Intel {
	a := &alert.Intel{Match: string(h.Kind), Entry: h.Entry, Source: h.Source, Domain: h.Domain, Query: h.Query, Note: h.Note}
	if !h.Expires.IsZero() {
		a.Expires = h.Expires.UTC().Format(time.RFC3339)
	}
	return a
}
