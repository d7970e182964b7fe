package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/models/defaultmodel"
)

// eval --model default scores a manifest with the model shipped in the
// binary, as detect and features do, without a path to the model file:
// here the benign-ns captures (datasets/benign-ns), which it never saw,
// at the shipped model's own threshold.
func TestEvalDefaultScoresWithTheShippedModel(t *testing.T) {
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd("eval", "--model", "default", "--manifest", "../../datasets/benign-ns/manifest.tsv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := fmt.Sprintf("threshold %.4f", m.Threshold); !strings.Contains(out, want) {
		t.Errorf("output lacks %q (the shipped model's threshold):\n%s", want, out)
	}
	if !strings.Contains(out, "in 29 flows") || strings.Contains(stderr, "warning") {
		t.Errorf("want the 29 benign-ns flows scored and no training-overlap warning; stdout:\n%s\nstderr:\n%s", out, stderr)
	}
}
