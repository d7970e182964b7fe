package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// eval --model default scores a manifest with the model shipped in the
// binary, as detect and features do, without a path to the model file:
// here the benign-ns captures (datasets/benign-ns), at the shipped model's
// own threshold. The shipped model is trained with them (make model), so
// eval must say so: the overlap warning is found through the captures
// recorded in the built-in model, as for a model file.
func TestEvalDefaultScoresWithTheShippedModel(t *testing.T) {
	const path = "../../datasets/benign-ns/manifest.tsv"
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	man, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCmd("eval", "--model", "default", "--manifest", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := fmt.Sprintf("threshold %.4f", m.Threshold); !strings.Contains(out, want) {
		t.Errorf("output lacks %q (the shipped model's threshold):\n%s", want, out)
	}
	// Every benign-ns capture holds at least one flow that lives past
	// the first checkpoint, so every one is scored.
	flows := regexp.MustCompile(`benign: \d+ false alarms in (\d+) flows`).FindStringSubmatch(out)
	if flows == nil {
		t.Fatalf("no benign flow count in:\n%s", out)
	}
	if n, _ := strconv.Atoi(flows[1]); n < len(man.Entries) {
		t.Errorf("%d benign flows scored, want at least one per capture (%d)", n, len(man.Entries))
	}
	if want := fmt.Sprintf("%d of the %d captures evaluated trained this model", len(man.Entries), len(man.Entries)); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks the training-overlap warning %q:\n%s", want, stderr)
	}
}
