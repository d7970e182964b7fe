package train

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/minerwatch/minerwatch/internal/filehash"
	"github.com/minerwatch/minerwatch/models/modelfile"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// CaptureID names a capture by its content, so that a copy under another
// name or folder (the repo's samples are copies of lab captures) is still
// recognised as the same capture.
type CaptureID struct {
	Path   string `json:"path"` // as the manifest writes it
	SHA256 string `json:"sha256"`
}

// trainingCapturesKey is where a model file's Training.Extra lists the
// captures it was trained on.
const trainingCapturesKey = "training_captures"

// HashCaptures identifies every capture of the manifests.
func HashCaptures(ctx context.Context, manifests []string) ([]CaptureID, error) {
	var out []CaptureID
	for _, path := range manifests {
		m, err := manifest.Load(path)
		if err != nil {
			return nil, err
		}
		for _, e := range m.Entries {
			sum, err := hashFile(ctx, e.File)
			if err != nil {
				return nil, fmt.Errorf("manifest %s line %d: %w", path, e.Line, err)
			}
			out = append(out, CaptureID{Path: e.Path, SHA256: sum})
		}
	}
	return out, nil
}

func hashFile(ctx context.Context, path string) (string, error) {
	sum, _, err := filehash.SHA256(ctx, path)
	if err != nil {
		return "", fmt.Errorf("hash capture: %w", err)
	}
	return sum, nil
}

// RecordTrainingCaptures writes ids into the model's training metadata,
// for eval to warn when it is asked to score captures the model learned.
func RecordTrainingCaptures(m *modelfile.Model, ids []CaptureID) {
	if m.Training.Extra == nil {
		m.Training.Extra = map[string]any{}
	}
	m.Training.Extra[trainingCapturesKey] = ids
}

// TrainingCaptures returns the captures m was trained on: as recorded in
// the file, or, for a model made before they were recorded, by hashing
// the captures of the manifests it names (when they are still where they
// were). from says which, for messages; no ids and a nil error means
// unknown.
func TrainingCaptures(ctx context.Context, m *modelfile.Model) (ids []CaptureID, from string, err error) {
	if raw, ok := m.Training.Extra[trainingCapturesKey]; ok {
		b, err := json.Marshal(raw) // a []any of maps once read back from JSON
		if err == nil {
			err = json.Unmarshal(b, &ids)
		}
		if err != nil {
			return nil, "", fmt.Errorf("model's %s: %w", trainingCapturesKey, err)
		}
		return ids, "recorded in the model file", nil
	}
	var found []string
	for _, src := range m.Training.Sources {
		if fi, err := os.Stat(src); err == nil && fi.Mode().IsRegular() {
			found = append(found, src)
		}
	}
	if len(found) == 0 || len(found) < len(m.Training.Sources) {
		return nil, "", nil
	}
	ids, err = HashCaptures(ctx, found)
	if err != nil {
		return nil, "", err
	}
	return ids, "from its training manifest " + strings.Join(found, ", ") + " as it reads now", nil
}

// SharedCaptures returns the captures of eval whose content is among
// trained, sorted by path.
func SharedCaptures(trained, eval []CaptureID) []CaptureID {
	in := make(map[string]bool, len(trained))
	for _, c := range trained {
		in[c.SHA256] = true
	}
	var out []CaptureID
	for _, c := range eval {
		if in[c.SHA256] {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// OverlapWarning says that shared of the evaluated captures (of total)
// trained the model, or "" when none did.
func OverlapWarning(shared []CaptureID, total int, from string) string {
	if len(shared) == 0 {
		return ""
	}
	var names []string
	for i, c := range shared {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(shared)-3))
			break
		}
		names = append(names, c.Path)
	}
	return fmt.Sprintf("%d of the %d captures evaluated trained this model (same content; training captures %s): %s; its figures on them are not an estimate of how it does on new traffic",
		len(shared), total, from, strings.Join(names, ", "))
}
