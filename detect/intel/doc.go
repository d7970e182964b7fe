// Package intel is stage 0 of minerwatch: threat intelligence. It loads
// lists of mining-pool addresses and domains (plain lists, hosts files,
// Maltrail trails, nDPI host lists, CSV inventories — see Formats), keeps
// each entry's source and expiry, and matches traffic against them:
// destination address and port of every flow, DNS query names, DNS answers
// (addresses resolved for a listed name are learned with the answer's
// TTL), and the TLS ClientHello SNI. An allowlist wins over every list.
// Pool endpoints that the signature stage confirms join a persistent
// learned list, so other hosts reaching the same private pool are flagged
// even over TLS.
//
// Domain entries match by suffix on label boundaries ("hoo.com" matches
// "pool.hoo.com" but not "yahoo.com") unless written "^name", which
// matches that name only.
//
// Example:
//
//	in, warnings, err := intel.Load(intel.Options{
//		Lists:       []string{"extra-pools.txt"},
//		Allow:       []string{"allow.txt"},
//		LearnedPath: intel.DefaultLearnedPath(),
//	})
//	if err != nil { … }
//	for _, w := range warnings { log.Print(w) } // "extra-pools.txt:12: bad port …"
//	if hit, ok := in.CheckFlow(client, server, now); ok {
//		a.Detector, a.Intel = alert.DetectorIntel, hit.Alert()
//	}
package intel
