package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/models/modelfile"
)

// TestREADMEShowsRealEVEOutput: the README's alert example is a line
// `make demo` writes (the same detect flags on the same samples), and its
// rules table is `minerwatch rules --markdown` (`make readme-table`
// regenerates it), so neither drifts from the code.
func TestREADMEShowsRealEVEOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(readme)

	samples, _ := filepath.Glob("../../datasets/samples/*.pcap")
	code, out, stderr := runCmd(append([]string{"detect", "--sensor-name", "demo", "-r"}, samples...)...)
	if code != 0 {
		t.Fatalf("detect: exit %d: %s", code, stderr)
	}
	i := strings.Index(doc, "```json\n{\"timestamp\":\"2026-11-22T10:56:32")
	if i < 0 {
		t.Fatal("README has no alert example from the samples")
	}
	example := strings.SplitN(doc[i+len("```json\n"):], "\n", 2)[0]
	if !strings.Contains(out, example+"\n") {
		t.Errorf("README's alert example is not a line of `make demo`'s output:\n%s\noutput:\n%s", example, out)
	}

	code, table, _ := runCmd("rules", "--markdown")
	const begin, end = "<!-- rules-table:begin -->\n", "<!-- rules-table:end -->"
	b, e := strings.Index(doc, begin), strings.Index(doc, end)
	if code != 0 || b < 0 || e < b {
		t.Fatalf("rules exit %d; README markers at %d, %d", code, b, e)
	}
	if got := doc[b+len(begin) : e]; got != table {
		t.Errorf("README's rules table differs from `minerwatch rules --markdown` (run `make readme-table`)")
	}
}

// TestREADMEShowsRealSummary: the README's --summary table is what
// `make demo`'s detect line prints, so it does not drift from the code.
func TestREADMEShowsRealSummary(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(readme)
	samples, _ := filepath.Glob("../../datasets/samples/*.pcap")
	args := append([]string{"detect", "--summary", "--sensor-name", "demo", "-o", filepath.Join(t.TempDir(), "a.jsonl"), "-r"}, samples...)
	code, out, stderr := runCmd(args...)
	if code != 0 || !strings.HasPrefix(out, "HOST ") {
		t.Fatalf("detect: exit %d, stdout %q: %s", code, out, stderr)
	}
	const begin = "```text\nHOST "
	i := strings.Index(doc, begin)
	if i < 0 {
		t.Fatal("README shows no --summary table")
	}
	shown := doc[i+len("```text\n"):]
	shown = shown[:strings.Index(shown, "```")]
	if shown != out {
		t.Errorf("README's summary table differs from detect --summary:\n%s\n---\n%s", shown, out)
	}
}

// TestREADMETrainingFiguresAreTheShippedModels: the README's row and
// session-group counts of the cross-validation are those the shipped
// model file records (what `train` printed when it was made), not a
// figure typed in by hand (it once said 89 groups for 76).
func TestREADMETrainingFiguresAreTheShippedModels(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m, err := modelfile.Load("../../models/defaultmodel/model.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	groups, _ := m.Training.Extra["groups"].(float64) // a JSON number
	want := fmt.Sprintf("(%d rows in %d session groups, as `train` printed", m.Training.TrainRows, int(groups))
	if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), want) {
		t.Errorf("README does not say %q (the shipped model's training metadata)", want)
	}
}

// TestREADMEShowsRealDemoOutput: the README's `make demo` transcript is
// what the Makefile's demo commands print (run here in-process, on the
// same samples), so neither the commands nor their output drift.
func TestREADMEShowsRealDemoOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- demo-output:begin -->\n```text\n", "```\n<!-- demo-output:end -->"
	doc := string(readme)
	b, e := strings.Index(doc, begin), strings.Index(doc, end)
	if b < 0 || e < b {
		t.Fatal("README has no demo transcript between its markers")
	}
	shown := doc[b+len(begin) : e]
	// The build line depends on the machine (-tags libpcap or not).
	if i := strings.Index(shown, "\n"); strings.HasPrefix(shown, "go build ") && i > 0 {
		shown = shown[i+1:]
	}

	dir := t.TempDir()
	var want strings.Builder
	for _, cmdline := range []string{
		"bin/minerwatch flows -r datasets/samples/xmrig-plain-3333.pcap",
		"bin/minerwatch features -r datasets/samples/xmrig-plain-3333.pcap datasets/samples/xmrig-tls-443.pcap -o out/demo-features.arrow",
		"bin/minerwatch detect --summary --sensor-name demo -o out/demo-alerts.jsonl -r datasets/samples/*.pcap",
	} {
		recipe := strings.NewReplacer("bin/minerwatch", "$(BIN)", "datasets/samples", "$(SAMPLES)").Replace(cmdline)
		if !strings.Contains(string(makefile), "\t"+recipe+"\n") {
			t.Errorf("the Makefile's demo does not run %q", recipe)
		}
		want.WriteString(cmdline + "\n")
		var args []string
		for _, a := range strings.Fields(cmdline)[1:] {
			a = strings.Replace(a, "datasets/", "../../datasets/", 1)
			a = strings.Replace(a, "out/", dir+"/", 1)
			if strings.Contains(a, "*") {
				m, _ := filepath.Glob(a) // sorted, as the shell expands it
				args = append(args, m...)
				continue
			}
			args = append(args, a)
		}
		code, stdout, stderr := runCmd(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", cmdline, code, stderr)
		}
		want.WriteString(strings.NewReplacer(dir+"/", "out/", "../../datasets/", "datasets/").Replace(stdout + stderr))
	}
	alerts, err := os.ReadFile(filepath.Join(dir, "demo-alerts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&want, "alerts: out/demo-alerts.jsonl (%d events)\n", strings.Count(string(alerts), "\n"))
	if shown != want.String() {
		t.Errorf("README's demo transcript differs from what the demo prints:\n%s\n---\n%s", shown, want.String())
	}
}
