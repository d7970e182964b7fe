package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// shippedReport loads one of the shipped model's evaluation reports.
func shippedReport(t *testing.T, name string) *Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "models", "defaultmodel", "report", name))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// The report picture says what a reader needs: x tick labels on the PR
// curve and its operating point; recall and FPR per checkpoint with a
// legend, FPR on its own axis scaled to its maximum (the plaintext-to-
// encrypted report's 0.57 % at 60 s, the largest, tops a 1 % axis, not a
// 0–1 one), "no data" where a checkpoint has no mining rows (1500 s and
// later) instead of recall 0; and the confusion matrix's row percentages
// (2080 of 2084 benign rows = 99.81 %) and colour scale. The figures are
// the shipped reports' (the 120-tree model of 2026-12-06, trained with
// datasets/benign-ns), worked out from their confusion matrices by hand.
// Set MINERWATCH_SVG_DIR to keep the pictures (render them with
// rsvg-convert to look at them).
func TestReportSVGSaysWhatItShows(t *testing.T) {
	type expect struct {
		report  string
		noData  int      // checkpoints with no mining rows
		fprTop  string   // the right axis' top label
		shares  []string // row percentages in the confusion matrix
		opLabel string   // the operating point's label
	}
	cases := []expect{
		// 0.57 % at 60 s (2 of 353 benign rows) tops a 1 % axis; 4 of 2084
		// benign rows = 0.19 %; 31 of 103 mining rows = 30.10 % recall,
		// 31 of 35 alarms = 88.57 % precision.
		{"eval-plaintext-to-encrypted.json", 8, "1%", []string{"99.81%", "0.19%", "69.90%", "30.10%"}, "recall 30.10%, precision 88.57%"},
		// 0.27 % at 120 s (1 of 365 benign rows) tops a 0.5 % axis; 1 of 2738
		// benign rows = 0.04 %, 151 of 215 mining rows = 70.23 %, 151 of 152 = 99.34 %.
		{"train-grouped-cv.json", 8, "0.5%", []string{"99.96%", "0.04%", "29.77%", "70.23%"}, "recall 70.23%, precision 99.34%"},
	}
	// Every other shipped report gets the generic checks.
	all, _ := filepath.Glob(filepath.Join("..", "models", "defaultmodel", "report", "*.json"))
	for _, p := range all {
		if n := filepath.Base(p); n != cases[0].report && n != cases[1].report {
			cases = append(cases, expect{report: n, noData: -1})
		}
	}
	if len(cases) < 3 {
		t.Fatalf("shipped reports: %v", all)
	}
	for _, tc := range cases {
		r := shippedReport(t, tc.report)
		var b strings.Builder
		if err := r.WriteSVG(&b); err != nil {
			t.Fatal(err)
		}
		svg := b.String()
		if dir := os.Getenv("MINERWATCH_SVG_DIR"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(tc.report, ".json")+".svg"), []byte(svg), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(svg, -1)) }
		if n := count(`class="xtick"[^>]*>(0\.00|0\.25|0\.50|0\.75|1\.00)<`); n != 5 {
			t.Errorf("%s: %d PR x tick labels, want 5", tc.report, n)
		}
		if count(`class="operating-point"`) != 1 || !strings.Contains(svg, "operating point (fold thresholds, target FPR") {
			t.Errorf("%s: no operating point with its legend", tc.report)
		}
		for _, want := range []string{"recall (left axis)", "FPR (right axis)", "share of the true class", `class="colour-scale"`} {
			if !strings.Contains(svg, want) {
				t.Errorf("%s: missing %q", tc.report, want)
			}
		}
		noData := 0
		for _, s := range r.ByCheckpoint {
			if s.Recall < 0 {
				noData++
			}
		}
		if count(`class="no-data"`) != noData {
			t.Errorf("%s: %d no-data bars, want %d", tc.report, count(`class="no-data"`), noData)
		}
		if tc.noData >= 0 && noData != tc.noData {
			t.Errorf("%s: %d checkpoints without mining rows, want %d", tc.report, noData, tc.noData)
		}
		if tc.fprTop != "" {
			if m := regexp.MustCompile(`class="y2tick"[^>]*>([^<]+)<`).FindAllStringSubmatch(svg, -1); len(m) == 0 || m[len(m)-1][1] != tc.fprTop {
				t.Errorf("%s: FPR axis ticks %v, want top %s", tc.report, m, tc.fprTop)
			}
		}
		for _, sh := range tc.shares {
			if !regexp.MustCompile(`class="row-share"[^>]*>` + regexp.QuoteMeta(sh) + `<`).MatchString(svg) {
				t.Errorf("%s: no row share %s", tc.report, sh)
			}
		}
		if tc.opLabel != "" && !strings.Contains(svg, tc.opLabel) {
			t.Errorf("%s: operating point label %q missing", tc.report, tc.opLabel)
		}
	}
}

// The FPR axis tops at a round number and its ticks land on round ones.
func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ v, want float64 }{
		{0, 0.01}, {0.0055, 0.01}, {0.0633, 0.1}, {0.003, 0.005}, {0.02, 0.02}, {0.21, 0.25}, {1, 1},
	} {
		if got, _ := niceCeil(tc.v); got < tc.want*0.999999 || got > tc.want*1.000001 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestFPRTicksAreRound(t *testing.T) {
	for _, v := range []float64{0, 0.0055, 0.0217, 0.0633, 0.003, 0.4} {
		top, n := niceCeil(v)
		step := top / float64(n)
		m := step / math.Pow(10, math.Floor(math.Log10(step)))
		if ok := slices.ContainsFunc([]float64{1, 2, 2.5, 5}, func(r float64) bool { return math.Abs(m-r) < 1e-9 }); !ok {
			t.Errorf("max %v: axis 0–%v in %d steps of %v", v, top, n, step)
		}
	}
}
