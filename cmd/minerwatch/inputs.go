package main

import (
	"fmt"
	"io"

	"github.com/minerwatch/minerwatch/features/capture"
)

// reportInputs prints, one line each, the reader's warnings (files cut
// short, skipped records) and the files it could not open or read to their
// end, which the run left out. It returns whether any file failed: the
// command then exits 1 after finishing with the others.
func reportInputs(stderr io.Writer, cmd string, r *capture.Reader) (failed bool) {
	for _, w := range r.Warnings {
		fmt.Fprintf(stderr, "minerwatch %s: warning: %s\n", cmd, w)
	}
	if st := r.Stats(); st.Oversize > 0 || st.Corrupt > 0 {
		fmt.Fprintf(stderr, "minerwatch %s: %d records over %d bytes skipped, %d corrupt pcapng regions skipped\n",
			cmd, st.Oversize, capture.MaxRecordLen, st.Corrupt)
	}
	for _, err := range r.Errs() {
		fmt.Fprintf(stderr, "minerwatch %s: %v (skipped; the other inputs were read)\n", cmd, err)
	}
	return len(r.Errs()) > 0
}
