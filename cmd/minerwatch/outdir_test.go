package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `features -o out/x.parquet` and `train -o nodir/m.json.gz` without the
// folder: it is created (as mkdir -p), not an error naming a temporary
// file after the work is done.
func TestOutputIntoAMissingFolderCreatesIt(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		out  string
		args []string
	}{
		{"features", filepath.Join(dir, "out", "x.parquet"), []string{"features", "-r", sample}},
		{"train", filepath.Join(dir, "nodir", "m.json.gz"), []string{"train", "--manifest", sampleManifest, "--trees", "3", "--no-cv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCmd(append(c.args, "-o", c.out)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if fi, err := os.Stat(c.out); err != nil || fi.Size() == 0 {
				t.Errorf("%s not written: %v", c.out, err)
			}
			if !strings.Contains(stderr, c.out) {
				t.Errorf("stderr does not name %s: %q", c.out, stderr)
			}
		})
	}
}

// An output that cannot be created (a file where its folder should be)
// fails at once with one line naming the path given: train does not read
// the captures and cross-validate first.
func TestUncreatableOutputFailsBeforeAnyWork(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	os.WriteFile(file, nil, 0o644)
	for _, args := range [][]string{
		{"features", "-r", sample, "-o", filepath.Join(file, "x.parquet")},
		{"train", "--manifest", sampleManifest, "-o", filepath.Join(file, "m.json.gz")},
		{"train", "--manifest", sampleManifest, "-o", filepath.Join(dir, "m.json.gz"), "--report", filepath.Join(file, "rep")},
		{"eval", "--manifest", sampleManifest, "--experiment", "grouped-cv", "--report", filepath.Join(file, "rep")},
	} {
		t.Run(strings.Join(args[:1], " "), func(t *testing.T) {
			code, _, stderr := runCmd(args...)
			out := args[len(args)-1]
			if code == 0 {
				t.Fatal("exit 0")
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(stderr, out) || !strings.Contains(stderr, "not a directory") {
				t.Errorf("stderr = %q, want one line naming %s", stderr, out)
			}
			if strings.Contains(stderr, ".tmp-") || strings.Contains(stderr, "captures") {
				t.Errorf("stderr = %q: a temporary name, or work done before the check", stderr)
			}
		})
	}
}
