package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eval --model on captures the model was trained on says so — on stderr
// and in the report's JSON — with how many of how many, also when they
// are copies under other names; on captures new to it, it says nothing.
func TestEvalWarnsWhenTheModelTrainedOnTheCaptures(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.json.gz")
	if code, _, stderr := runCmd("train", "--manifest", sampleManifest, "--trees", "3", "--no-cv", "-o", model); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	// Two of the training captures, copied and renamed, and one the
	// model never saw (a SYN flood made here).
	copySample(t, dir, "renamed-plain.pcap")
	b, err := os.ReadFile("../../datasets/samples/benign_https-poll-curl-tls13_20min.pcap")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "renamed-benign.pcap"), b, 0o644)
	f, err := os.Create(filepath.Join(dir, "new.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSYNFlood(f, 50); err != nil {
		t.Fatal(err)
	}
	f.Close()
	manifests := map[string]string{
		"overlap.tsv": "renamed-plain.pcap\tmining\t*\tplaintext\t-\t-\n" +
			"renamed-benign.pcap\tbenign\t-\t-\t-\t-\n" +
			"new.pcap\tbenign\t-\t-\t-\t-\n",
		"new.tsv": "new.pcap\tbenign\t-\t-\t-\t-\n",
	}
	for name, text := range manifests {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	const want = "2 of the 3 captures evaluated trained this model (same content; training captures recorded in the model file): renamed-benign.pcap, renamed-plain.pcap"

	rep := filepath.Join(dir, "rep")
	code, out, stderr := runCmd("eval", "--model", model, "--manifest", filepath.Join(dir, "overlap.tsv"), "--report", rep)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "minerwatch eval: warning: "+want) || !strings.Contains(out, "WARNING: "+want) {
		t.Errorf("no overlap warning on stderr or in the text report:\n%s\n%s", stderr, out)
	}
	var r struct{ Warnings []string }
	if b, err := os.ReadFile(filepath.Join(rep, "eval-model.json")); err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("report JSON: %v", err)
	}
	if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], want) {
		t.Errorf("report JSON warnings %q, want %q", r.Warnings, want)
	}

	code, out, stderr = runCmd("eval", "--model", model, "--manifest", filepath.Join(dir, "new.tsv"))
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr+out, "warning") || strings.Contains(out, "WARNING") {
		t.Errorf("warning about captures the model never saw:\n%s\n%s", stderr, out)
	}
}
