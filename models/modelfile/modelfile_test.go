package modelfile

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/models/forest"
)

var names = []string{"bytes_up", "bytes_down", "iat_mean", "iat_std"}

// smallModel is a 5-tree forest on a rule over feature 2 (iat_mean).
func smallModel(t *testing.T) *Model {
	t.Helper()
	var X [][]float64
	var y []int
	for i := range 400 {
		x := float64(i%97) / 97
		row := []float64{float64(i % 13), float64(i % 7), x, math.NaN()}
		if i%5 == 0 {
			row[3] = x
		}
		X = append(X, row)
		if x > 0.4 {
			y = append(y, 1)
		} else {
			y = append(y, 0)
		}
	}
	f, err := forest.Train(X, y, forest.Params{Trees: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &Model{
		FeatureSet: "test-4", FeatureNames: names, Threshold: 0.7, Forest: f,
		Training: Training{Sources: []string{"lab/xmrig.pcap"}, TrainRows: 400,
			Metrics: map[string]float64{"oob_auc": f.OOB().ROCAUC}, Extra: map[string]any{"note": "unit test"}},
	}
}

func TestSavedModelLoadsBackAndScoresIdentically(t *testing.T) {
	m := smallModel(t)
	path := filepath.Join(t.TempDir(), "model.json.gz")
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.CheckSchema("test-4", names); err != nil {
		t.Fatal(err)
	}
	if got.Threshold != 0.7 || got.Training.Extra["note"] != "unit test" || got.Training.CreatedAt.IsZero() ||
		got.Version != Version || got.Format != Format {
		t.Errorf("metadata did not survive: %+v", got)
	}
	if a, b := m.Forest.Importances(), got.Forest.Importances(); a[2] != b[2] {
		t.Errorf("importances %v, want %v", b, a)
	}
	wantParams := m.Forest.Params()
	wantParams.Workers = 0 // a property of the training machine, not of the model
	if got.Forest.Params() != wantParams {
		t.Errorf("params %+v, want %+v", got.Forest.Params(), wantParams)
	}
	if got.Forest.OOB() != m.Forest.OOB() {
		t.Errorf("OOB %v, want %v", got.Forest.OOB(), m.Forest.OOB())
	}
	for i := range 100 {
		row := []float64{float64(i % 13), float64(i % 3), float64(i) / 100, math.NaN()}
		if i%2 == 0 {
			row[3] = 0.5
		}
		if a, b := m.Forest.PredictProba(row), got.Forest.PredictProba(row); a != b {
			t.Fatalf("row %v: saved forest says %v, loaded one %v", row, a, b)
		}
	}
	// A person can gunzip the file and the plain JSON still loads.
	raw, _ := os.ReadFile(path)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	plain.ReadFrom(zr)
	if !bytes.HasPrefix(plain.Bytes(), []byte(`{"format":"minerwatch-model","version":1,"feature_set":"test-4"`)) {
		t.Errorf("plain JSON starts %.80s", plain.String())
	}
	if _, err := Decode(plain.Bytes()); err != nil {
		t.Errorf("plain JSON refused: %v", err)
	}
}

func TestMismatchedSchemaIsRefused(t *testing.T) {
	m := smallModel(t)
	cases := []struct {
		name  string
		set   string
		names []string
		want  string
	}{
		{"other feature set", "pastor2020-51", names, `model feature set "test-4" (4 features) does not match extractor feature set "pastor2020-51"`},
		{"reordered", "test-4", []string{"bytes_up", "bytes_down", "iat_std", "iat_mean"}, `feature 2 is "iat_mean" in the model but "iat_std" in the extractor`},
		{"missing", "test-4", names[:3], `model expects feature 3 "iat_std" the extractor lacks`},
		{"extra", "test-4", append(append([]string{}, names...), "syn_count"), `extractor has extra feature 4 "syn_count"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := m.CheckSchema(c.set, c.names)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestCorruptedFilesAreRefused(t *testing.T) {
	m := smallModel(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json.gz")
	if err := Save(good, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	zr, _ := gzip.NewReader(bytes.NewReader(raw))
	var plainBuf bytes.Buffer
	plainBuf.ReadFrom(zr)
	plain := plainBuf.String()

	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 0x40
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated gzip", raw[:len(raw)*2/3], "truncated"},
		{"bit flip in gzip", flipped, "corrupt"},
		{"empty", nil, "not a model file"},
		{"other JSON", []byte(`{"hello":1}`), `format ""`},
		{"newer version", gz(strings.Replace(plain, `"version":1`, `"version":9`, 1)), "version 9"},
		{"child index out of range", gz(strings.Replace(plain, `"left":[1,`, `"left":[100000,`, 1)), "children 100000"},
		{"cycle", gz(strings.Replace(plain, `"left":[1,`, `"left":[0,`, 1)), "children 0"},
		{"feature out of range", gz(strings.Replace(plain, `"feature":[2,`, `"feature":[40,`, 1)), "feature 40"},
		{"names vs forest", gz(strings.Replace(plain, `"iat_std"`, `"iat_std","extra"`, 1)), "5 feature names for a forest of 4"},
		{"threshold", gz(strings.Replace(plain, `"threshold":0.7`, `"threshold":7`, 1)), "threshold 7"},
		{"leaf value", gz(strings.Replace(plain, `"value":[`, `"value":[-3,`, 1)), "value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestFailedSaveLeavesNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.json.gz")
	m := smallModel(t)
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	// NaN is not JSON: encoding fails after the temporary file exists.
	bad := *m
	bad.Training.Extra = map[string]any{"oops": math.NaN()}
	if err := Save(path, &bad); err == nil || !strings.Contains(err.Error(), "encode") {
		t.Fatalf("err = %v, want an encode error", err)
	}
	// Invalid before any write.
	invalid := *m
	invalid.FeatureNames = names[:2]
	if err := Save(filepath.Join(dir, "other.json.gz"), &invalid); err == nil {
		t.Fatal("saved a model whose names do not match its forest")
	}
	// A folder that cannot be made: the model file is where it would be
	// (a missing folder is made, as internal/outfile does for every output).
	if err := Save(filepath.Join(path, "m.json.gz"), m); err == nil {
		t.Fatal("saved under a file as if it were a folder")
	}

	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("failed save changed the existing model file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "model.json.gz" {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Errorf("directory holds %v, want only model.json.gz", got)
	}
}

func TestModelFilesFromBeforeNamedParamsStillLoad(t *testing.T) {
	// The first files wrote criterion and split method as numbers
	// ("criterion":0,"split":1); they must keep loading.
	m := smallModel(t)
	path := filepath.Join(t.TempDir(), "m.json.gz")
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	zr, _ := gzip.NewReader(bytes.NewReader(raw))
	var plain bytes.Buffer
	plain.ReadFrom(zr)
	old := strings.Replace(strings.Replace(plain.String(), `"criterion":"gini"`, `"criterion":1`, 1), `"split":"histogram"`, `"split":1`, 1)
	if old == plain.String() {
		t.Fatal("did not find named params to replace")
	}
	got, err := Decode([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Forest.Params(); p.Criterion != forest.Entropy || p.Split != forest.Exact {
		t.Errorf("params %+v, want entropy/exact", p)
	}
}
