package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/train"
	"github.com/minerwatch/minerwatch/train/dataset"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// sampleManifest lists the repo's four sample captures.
const sampleManifest = "../../datasets/manifest.tsv"

// labelCounts reads an Arrow IPC stream (features -o -) and counts rows by
// their label column.
func labelCounts(t *testing.T, data []byte) map[string]int {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for _, k := range []string{"minerwatch.manifest", "minerwatch.inputs", "minerwatch.train_rows"} {
		if v, ok := r.Schema().Metadata().GetValue(k); !ok || v == "" {
			t.Errorf("metadata %s missing", k)
		}
	}
	label := r.Schema().FieldIndices("label")[0]
	got := map[string]int{}
	for r.Next() {
		col := r.RecordBatch().Column(label).(*array.String)
		for i := 0; i < col.Len(); i++ {
			got[col.Value(i)]++
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// `features --manifest` writes exactly the rows dataset.Build makes for
// `train` (all of them, or train.Usable's subset with --train-rows), with
// the same labels: the expected counts are computed here by the same
// package train uses.
func TestFeaturesManifestWritesTrainRows(t *testing.T) {
	m, err := manifest.Load(sampleManifest)
	if err != nil {
		t.Fatal(err)
	}
	all, usable := map[string]int{}, map[string]int{}
	// train's schedule: --manifest defaults to it.
	if _, err := dataset.Build(context.Background(), m, dataset.Options{Checkpoints: flowfeat.ModelCheckpoints()}, func(r *dataset.Row) error {
		all[r.Label]++
		if train.Usable(r) {
			usable[r.Label]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if all[dataset.LabelMining] == 0 || all[dataset.LabelBenign] == 0 {
		t.Fatalf("sample manifest gives %v, want mining and benign rows", all)
	}
	for _, tc := range []struct {
		name string
		args []string
		want map[string]int
	}{
		{"all rows", nil, all},
		{"train rows", []string{"--train-rows"}, usable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(append([]string{"features", "--manifest", sampleManifest, "-o", "-"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got := labelCounts(t, []byte(out))
			for k := range tc.want {
				if got[k] != tc.want[k] {
					t.Errorf("label %q rows = %d, want %d", k, got[k], tc.want[k])
				}
			}
		})
	}
}

// Each format lands at -o, atomically: no temporary file is left beside it.
func TestFeaturesFormatsByExtension(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"f.arrow", "f.parquet", "f.arrows"} {
		if code, _, errOut := runCmd("features", "--manifest", sampleManifest, "-o", filepath.Join(dir, name)); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("files = %v, want exactly the three outputs", entries)
	}
	for _, e := range entries {
		if info, _ := e.Info(); info.Size() == 0 || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("unexpected output %s (%d bytes)", e.Name(), info.Size())
		}
	}
}

// Flags that would make --manifest rows differ from train's are refused
// with one clear line, and nothing is written.
func TestFeaturesManifestFlagConflicts(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.arrow")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"with -r", []string{"--manifest", sampleManifest, "-r", sample}, "mutually exclusive"},
		{"with --window", []string{"--manifest", sampleManifest, "--window", "60s"}, "--window cannot be used with --manifest"},
		{"with a flow-table flag", []string{"--manifest", sampleManifest, "--idle-timeout", "1s"}, "--idle-timeout cannot be used"},
		{"--train-rows without a manifest", []string{"-r", sample, "--train-rows"}, "--train-rows needs --manifest"},
		{"unknown format", []string{"--manifest", sampleManifest, "--format", "csv"}, "unknown output format"},
		{"missing manifest", []string{"--manifest", filepath.Join(dir, "none.tsv")}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(append([]string{"features", "-o", out}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want one error line containing %q", code, errOut, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output written despite the error")
			}
		})
	}
}
