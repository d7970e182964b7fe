// Package capture reads packets from capture files: classic pcap (micro- and
// nanosecond, both byte orders, versions 2.0 to 2.4), pcapng (several
// sections, interfaces with different link types and timestamp
// resolutions), each optionally gzip-compressed, and several files at once
// merged into one time-ordered stream.
//
// Reading is zero-copy and streams each file once (FIFOs work): a Record's
// Data is valid until the next call to Next. Hostile or damaged files are
// bounded: a record over MaxRecordLen is skipped and counted, no header can
// make the reader allocate more than the bytes the file holds, a corrupt
// pcapng block is skipped to the next valid one, and a file that cannot be
// read is left out and reported (Reader.Errs) while the others are read.
//
//	src, err := capture.Open("a.pcap", "b.pcapng.gz")
//	if err != nil { ... } // no file could be read
//	defer src.Close()
//	var rec capture.Record
//	for {
//		err := src.Next(&rec)
//		if err == io.EOF { break }
//		var fe *capture.FileError
//		if errors.As(err, &fe) { continue } // that file is left out
//		// rec.LinkType, rec.Data, rec.Time
//	}
//	for _, err := range src.Errs() { ... } // report the files left out
package capture
