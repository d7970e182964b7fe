package train

import (
	"context"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/models/modelfile"
)

// A model made before training captures were recorded (the one shipped
// until 2026-12-06) is checked through the manifest it names, when that
// is still there; when it is not, the overlap is unknown (no ids, no error).
func TestTrainingCapturesFallBackToTheNamedManifest(t *testing.T) {
	const samples = "../datasets/manifest.tsv" // the repo's four samples
	old := &modelfile.Model{Training: modelfile.Training{Sources: []string{samples}}}
	ids, from, err := TrainingCaptures(context.Background(), old)
	if err != nil || len(ids) != 4 || !strings.Contains(from, samples) {
		t.Fatalf("TrainingCaptures = %d ids, %q, %v; want the manifest's 4", len(ids), from, err)
	}
	evalIDs, err := HashCaptures(context.Background(), []string{samples})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(SharedCaptures(ids, evalIDs[:2])); n != 2 {
		t.Errorf("%d shared, want 2", n)
	}
	if w := OverlapWarning(SharedCaptures(ids, evalIDs), len(evalIDs), from); !strings.HasPrefix(w, "4 of the 4 captures evaluated trained this model") {
		t.Errorf("warning %q", w)
	}
	if w := OverlapWarning(nil, 4, from); w != "" {
		t.Errorf("warning %q with nothing shared", w)
	}

	gone := &modelfile.Model{Training: modelfile.Training{Sources: []string{"/nonexistent/manifest.tsv"}}}
	if ids, _, err := TrainingCaptures(context.Background(), gone); ids != nil || err != nil {
		t.Errorf("missing manifest: %d ids, %v; want unknown", len(ids), err)
	}
}
