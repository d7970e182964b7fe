package main

import (
	"path/filepath"
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
			if gotErr != wantErr {
				t.Errorf("--workers %s: stderr (summary, counters) differs:\n%s\n---\n%s", w, gotErr, wantErr)
			}
		}
	}
}
