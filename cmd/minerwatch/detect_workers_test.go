package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// TestDetectWorkersWriteWhatOneEngineWrites: `detect -r … --workers N`
// (detect/parallel) writes the alerts, the per-host summary and the
// counters of the one-engine path, byte for byte, on all the shipped
// samples read together (capture names included) and on the lab mining
// captures merged.
func TestDetectWorkersWriteWhatOneEngineWrites(t *testing.T) {
	samples, _ := filepath.Glob("../../datasets/samples/*.pcap")
	inputs := [][]string{samples}
	if root := shareddata.Dir(); root != "" {
		if lab, _ := filepath.Glob(filepath.Join(root, "lab", "mining", "*.pcap")); len(lab) > 0 {
			inputs = append(inputs, lab)
		}
	}
	for _, files := range inputs {
		if len(files) == 0 {
			t.Fatal("no captures")
		}
		args := append([]string{"detect", "--no-learned", "--summary", "--stats"}, files...)
		code, want, wantErr := runCmd(args...)
		if code != 0 || strings.Count(want, "\n") < 3 {
			t.Fatalf("one engine: exit %d, %d lines: %s", code, strings.Count(want, "\n"), wantErr)
		}
		for _, w := range []string{"2", "3"} {
			code, got, gotErr := runCmd(append([]string{args[0], "--workers", w}, args[1:]...)...)
			if code != 0 {
				t.Fatalf("--workers %s: exit %d: %s", w, code, gotErr)
			}
			if got != want {
				t.Errorf("--workers %s on %s…: output differs from one engine's:\n%s\n---\n%s", w, filepath.Base(files[0]), got, want)
			}
			if gotErr, wantErr := withoutTimings(gotErr), withoutTimings(wantErr); gotErr != wantErr {
				t.Errorf("--workers %s: stderr (summary, counters) differs:\n%s\n---\n%s", w, gotErr, wantErr)
			}
		}
	}
}

// TestFragmentedSessionSameWithWorkers: a mining session cut into 40-byte
// IP fragments gives the same alerts and counters (reassembled datagrams
// included) with 2 and 7 workers as with one engine: the reader
// reassembles before the flow hash, or most later fragments (no ports)
// would land on another worker than their first.
func TestFragmentedSessionSameWithWorkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frag.pcap")
	n := refragment(t, path, false, func(ip []byte) [][]byte { return splitOrFail(t, ip, 40, 0) })
	args := []string{"detect", "--no-learned", "--stats", "-r", path}
	code, want, wantErr := runCmd(args...)
	if code != 0 || !strings.Contains(want, `"detector":"signature"`) {
		t.Fatalf("one engine: exit %d, no signature alert: %s\n%s", code, want, wantErr)
	}
	if !strings.Contains(wantErr, "reassembled "+strconv.Itoa(n)+" datagrams") {
		t.Fatalf("one engine: want %d reassembled:\n%s", n, wantErr)
	}
	for _, w := range []string{"2", "7"} {
		code, got, gotErr := runCmd(append([]string{args[0], "--workers", w}, args[1:]...)...)
		if code != 0 || got != want || withoutTimings(gotErr) != withoutTimings(wantErr) {
			t.Errorf("--workers %s: exit %d, output differs from one engine's:\n%s\n%s\n---\n%s\n%s", w, code, got, gotErr, want, wantErr)
		}
	}
}

// TestWorkersReportAFullDisk: an alert write failure (/dev/full) ends a
// --workers run with the one-engine run's error line and exit status.
func TestWorkersReportAFullDisk(t *testing.T) {
	if !isCharDevice("/dev/full") {
		t.Skip("/dev/full is not a character device here")
	}
	args := []string{"detect", "--no-learned", "-r", sample, "-o", "/dev/full"}
	wantCode, _, wantErr := runCmd(args...)
	if wantCode == 0 || !strings.Contains(wantErr, "no space left") {
		t.Fatalf("one engine: exit %d, %q", wantCode, wantErr)
	}
	code, _, stderr := runCmd(append([]string{args[0], "--workers", "2"}, args[1:]...)...)
	if code != wantCode || stderr != wantErr {
		t.Errorf("--workers 2: exit %d, %q; want exit %d, %q", code, stderr, wantCode, wantErr)
	}
}

// scoreTiming matches --stats' model time per row and time per
// periodicity computation, the counters that are measurements (they
// differ from run to run), not counts.
var scoreTiming = regexp.MustCompile(`[0-9.]+ µs (per row|each)`)

// withoutTimings blanks the timings in --stats output, so two runs compare
// by their counts.
func withoutTimings(s string) string {
	return scoreTiming.ReplaceAllString(s, "… µs $1")
}
