package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

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

// reportCapped prints one "capped: …" line joining what the run's bounded
// tables dropped (each part a Drops() string, "" when nothing), so an
// operator sees every eviction at the end of every run, not only with
// --stats; nothing when nothing was dropped.
func reportCapped(stderr io.Writer, cmd string, drops ...string) {
	var parts []string
	for _, d := range drops {
		if d = strings.TrimPrefix(d, "capped: "); d != "" {
			parts = append(parts, d)
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(stderr, "minerwatch %s: capped: %s\n", cmd, strings.Join(parts, ", "))
	}
}

// captureName is how alerts, the summary and feature rows name a capture:
// its file name, or "stdin" for -r -.
func captureName(path string) string {
	if path == capture.Stdin {
		return "stdin"
	}
	return filepath.Base(path)
}
