// Package capture reads packets from capture files: classic pcap (micro- and
// nanosecond, both byte orders), pcapng (several interfaces with different
// link types), each optionally gzip-compressed, and several files at once
// merged into one time-ordered stream.
//
// Reading is zero-copy: a Record's Data is valid until the next call to Next.
//
//	src, err := capture.Open("a.pcap", "b.pcapng.gz")
//	if err != nil { ... }
//	defer src.Close()
//	var rec capture.Record
//	for {
//		if err := src.Next(&rec); err == io.EOF { break } else if err != nil { ... }
//		// rec.LinkType, rec.Data, rec.Time
//	}
package capture
