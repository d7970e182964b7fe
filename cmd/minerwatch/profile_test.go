package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfileIsWrittenWhenAsked: MINERWATCH_CPUPROFILE makes a pprof
// file (gzip-compressed protobuf); a path that cannot be created is one
// line on stderr and no profile, not a failed run.
func TestCPUProfileIsWrittenWhenAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	t.Setenv("MINERWATCH_CPUPROFILE", path)
	var stderr bytes.Buffer
	stop := startProfile(&stderr)
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b || stderr.Len() != 0 {
		t.Errorf("profile of %d bytes starting %x, stderr %q", len(b), b[:min(len(b), 2)], stderr.String())
	}

	t.Setenv("MINERWATCH_CPUPROFILE", filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof"))
	stderr.Reset()
	startProfile(&stderr)()
	if got := stderr.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "not profiling") {
		t.Errorf("stderr %q, want one line saying it does not profile", got)
	}
}

// TestMemProfileIsWrittenWhenAsked: MINERWATCH_MEMPROFILE makes a pprof
// allocation profile at the end of the run; an uncreatable path is one line
// on stderr, not a failed run.
func TestMemProfileIsWrittenWhenAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mem.prof")
	t.Setenv("MINERWATCH_MEMPROFILE", path)
	var stderr bytes.Buffer
	startProfile(&stderr)()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b || stderr.Len() != 0 {
		t.Errorf("profile of %d bytes starting %x, stderr %q", len(b), b[:min(len(b), 2)], stderr.String())
	}

	t.Setenv("MINERWATCH_MEMPROFILE", filepath.Join(t.TempDir(), "no", "such", "dir", "mem.prof"))
	stderr.Reset()
	startProfile(&stderr)()
	if got := stderr.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "no profile") {
		t.Errorf("stderr %q, want one line saying there is no profile", got)
	}
}
