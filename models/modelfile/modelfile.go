package modelfile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/minerwatch/minerwatch/internal/outfile"
	"github.com/minerwatch/minerwatch/models/forest"
	"github.com/minerwatch/minerwatch/models/internal/wirejson"
)

// Format is the value of the "format" field that identifies our files.
const Format = "minerwatch-model"

// Version is the file-format version this package writes. Load accepts
// versions 1..Version and refuses newer files rather than guess.
const Version = 1

// Model is everything the detector needs to score flows, and everything a
// person needs to know where the model came from.
type Model struct {
	Format  string `json:"format"`  // always Format; set by Save
	Version int    `json:"version"` // set by Save

	// FeatureSet names the extractor's feature set (e.g. "pastor2020-51")
	// and FeatureNames its columns, in the order rows are given to the
	// forest. CheckSchema compares them with the extractor's at load time.
	FeatureSet   string   `json:"feature_set"`
	FeatureNames []string `json:"feature_names"`

	// Threshold is the probability at or above which a flow is reported as
	// mining (chosen by training for a target false-positive rate).
	Threshold float64 `json:"threshold"`

	Training Training       `json:"training"`
	Forest   *forest.Forest `json:"forest"`
}

// Training describes how the model was made. The training code fills it;
// Extra holds anything else it wants to keep (JSON values).
type Training struct {
	CreatedAt time.Time          `json:"created_at"`
	Sources   []string           `json:"sources,omitempty"` // manifests / captures
	TrainRows int                `json:"train_rows,omitempty"`
	TestRows  int                `json:"test_rows,omitempty"`
	Positives int                `json:"positives,omitempty"` // mining rows in training
	Metrics   map[string]float64 `json:"metrics,omitempty"`   // e.g. "test_auc", "fpr_at_threshold"
	Extra     map[string]any     `json:"extra,omitempty"`
}

// Validate reports why m cannot be used, or nil.
func (m *Model) Validate() error {
	switch {
	case m.Forest == nil:
		return errors.New("no forest")
	case m.FeatureSet == "":
		return errors.New("empty feature set name")
	case len(m.FeatureNames) != m.Forest.NumFeatures():
		return fmt.Errorf("%d feature names for a forest of %d features", len(m.FeatureNames), m.Forest.NumFeatures())
	case !(m.Threshold >= 0 && m.Threshold <= 1):
		return fmt.Errorf("threshold %v outside [0,1]", m.Threshold)
	}
	seen := make(map[string]int, len(m.FeatureNames))
	for i, name := range m.FeatureNames {
		if name == "" {
			return fmt.Errorf("feature %d has no name", i)
		}
		if j, dup := seen[name]; dup {
			return fmt.Errorf("feature name %q at %d and %d", name, j, i)
		}
		seen[name] = i
	}
	return nil
}

// CheckSchema refuses to score with m unless the extractor's feature set
// and ordered feature names are exactly the model's: a renamed, missing,
// added or reordered feature would otherwise be silently mis-scored.
func (m *Model) CheckSchema(setName string, names []string) error {
	if setName != m.FeatureSet {
		return fmt.Errorf("model feature set %q (%d features) does not match extractor feature set %q (%d features)",
			m.FeatureSet, len(m.FeatureNames), setName, len(names))
	}
	for i := range max(len(names), len(m.FeatureNames)) {
		switch {
		case i >= len(m.FeatureNames):
			return fmt.Errorf("feature set %q: extractor has extra feature %d %q the model lacks", setName, i, names[i])
		case i >= len(names):
			return fmt.Errorf("feature set %q: model expects feature %d %q the extractor lacks", setName, i, m.FeatureNames[i])
		case names[i] != m.FeatureNames[i]:
			return fmt.Errorf("feature set %q: feature %d is %q in the model but %q in the extractor", setName, i, m.FeatureNames[i], names[i])
		}
	}
	return nil
}

// Save writes m to path as gzip-compressed JSON, atomically (see
// internal/outfile): it writes a temporary file in the same directory,
// syncs it, and renames it over path, then syncs the directory. Readers
// see the old file or the new one, never a partial one; on error path is
// untouched and the temporary file is removed. A device or FIFO at path is
// written through instead.
func Save(path string, m *Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	out, err := outfile.Create(path, outfile.Options{})
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return SaveOutput(out, m)
}

// SaveOutput writes m to an output the caller opened (with its refused
// inputs and temp-file registry) and commits it; on error it is aborted.
func SaveOutput(out *outfile.File, m *Model) error {
	if err := Write(out, m); err != nil {
		out.Abort()
		return fmt.Errorf("save model %s: %w", out.Name(), err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// Write validates m and writes it to w as gzip-compressed JSON, stamped
// with this package's format and version.
func Write(w io.Writer, m *Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	out := *m
	out.Format, out.Version = Format, Version
	if out.Training.CreatedAt.IsZero() {
		out.Training.CreatedAt = time.Now().UTC()
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(zw).Encode(&out); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return zw.Close()
}

// Load reads and validates a model file written by Save (gzip-compressed
// or, after a person unzipped it, plain JSON). A truncated or corrupted
// file (gzip CRC, JSON syntax, tree structure), a file of another format
// or a newer version is refused with an error saying which.
func Load(path string) (*Model, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

// Decode parses and validates the bytes of a model file.
func Decode(raw []byte) (*Model, error) {
	data := raw
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip: %w", err)
		}
		// Reading to EOF makes gzip verify its CRC-32 and length.
		data, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("corrupt or truncated gzip: %w", err)
		}
	}
	if m, ok := decodeSplit(data); ok {
		return m, nil
	}
	return decodeGeneral(data)
}

// decodeGeneral decodes a model file's JSON with encoding/json alone.
func decodeGeneral(data []byte) (*Model, error) {
	// One pass over the JSON (a model is a megabyte of trees, and every
	// detect run starts by reading it); the format and version are
	// checked after it, and only a file that does not decode is read
	// again for them, so that another kind of file or a newer model gets
	// that answer rather than "corrupt".
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		var head struct {
			Format  string `json:"format"`
			Version int    `json:"version"`
		}
		if herr := json.Unmarshal(data, &head); herr != nil {
			return nil, fmt.Errorf("not a model file (corrupt JSON): %w", herr)
		}
		if herr := checkHead(head.Format, head.Version); herr != nil {
			return nil, herr
		}
		return nil, fmt.Errorf("corrupt model: %w", err)
	}
	if err := checkHead(m.Format, m.Version); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("invalid model: %w", err)
	}
	return &m, nil
}

// decodeSplit decodes a valid model file faster than encoding/json alone:
// it finds the "forest" value (nearly all of the file) with a plain scan,
// decodes the rest with encoding/json with null in its place, and the
// forest with forest's own reader, so encoding/json neither validates nor
// skips the trees byte by byte (a quarter of a load). Each part is
// checked in full (the small part by encoding/json, the forest by its
// strict reader), so their sum is a valid file. On anything unusual or
// wrong it reports false, and Decode's general path decodes the file or
// says what is wrong with it, exactly as before.
func decodeSplit(data []byte) (*Model, bool) {
	r := wirejson.NewReaderBytes(data) // only keys and lengths are kept
	start, end := -1, -1
	if !r.Byte('{') {
		return nil, false
	}
	for more := true; more; {
		key, ok := r.Key()
		if !ok {
			return nil, false
		}
		if key == "forest" && start < 0 {
			// Write puts the forest last: try the rest of the file up
			// to its closing brace as the forest's text, which spares a
			// scan of it; if the forest is not last, that text is not
			// one value, the forest's reader refuses it, and the scan
			// below finds the value's end.
			if m, ok := decodeLastForest(data, r.Offset()); ok {
				return m, true
			}
		}
		text, ok := r.Skip()
		if !ok {
			return nil, false
		}
		if key == "forest" {
			if start >= 0 {
				return nil, false // twice: let encoding/json pick
			}
			end = r.Offset()
			start = end - len(text)
		}
		if more, ok = r.Next('}'); !ok {
			return nil, false
		}
	}
	if !r.End() || start < 0 {
		return nil, false
	}
	return decodeParts(data, start, end)
}

// decodeLastForest is decodeParts for a forest whose value starts at
// start and is the last one in the file: its text runs to the file's
// last closing brace.
func decodeLastForest(data []byte, start int) (*Model, bool) {
	end := bytes.LastIndexByte(data, '}')
	if end <= start || len(bytes.TrimLeft(data[end+1:], " \t\r\n")) != 0 {
		return nil, false
	}
	return decodeParts(data, start, end)
}

// decodeParts decodes a model whose forest value is data[start:end]: the
// forest with its own reader, the rest with encoding/json with null in
// the forest's place. Both parts are checked in full, so when both
// decode, so does the whole file, to the same model.
func decodeParts(data []byte, start, end int) (*Model, bool) {
	rest := make([]byte, 0, len(data)-(end-start)+4)
	rest = append(append(append(rest, data[:start]...), "null"...), data[end:]...)
	var m Model
	if json.Unmarshal(rest, &m) != nil || m.Forest != nil {
		// m.Forest set: another key that encoding/json matches to the
		// field ("Forest"); the general path resolves which one wins.
		return nil, false
	}
	f := new(forest.Forest)
	if f.UnmarshalJSON(data[start:end]) != nil {
		return nil, false
	}
	m.Forest = f
	if checkHead(m.Format, m.Version) != nil || m.Validate() != nil {
		return nil, false
	}
	return &m, true
}

// checkHead checks a model file's format and version.
func checkHead(format string, version int) error {
	if format != Format {
		return fmt.Errorf("not a model file: format %q, want %q", format, Format)
	}
	if version < 1 || version > Version {
		return fmt.Errorf("model file version %d, this build reads 1..%d (upgrade minerwatch)", version, Version)
	}
	return nil
}
