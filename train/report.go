package train

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/minerwatch/minerwatch/features/flowfeat"
)

// Slice is the confusion of a subset of rows (a checkpoint, a scenario).
type Slice struct {
	Name      string    `json:"name"`
	Confusion Confusion `json:"confusion"`
	Precision float64   `json:"precision"`
	Recall    float64   `json:"recall"`
	F1        float64   `json:"f1"`
	FPR       float64   `json:"fpr"`
}

func newSlice(name string, c Confusion) Slice {
	return Slice{Name: name, Confusion: c, Precision: nz(c.Precision()), Recall: nz(c.Recall()), F1: nz(c.F1()), FPR: nz(c.FPR())}
}

// nz turns NaN into -1 for JSON (which has no NaN); the text report
// prints it as "-".
func nz(v float64) float64 {
	if math.IsNaN(v) {
		return -1
	}
	return v
}

// FlowSummary is detection per flow: a flow is detected (or a false
// alarm) when any of its checkpoints reaches the threshold, as online.
type FlowSummary struct {
	MiningFlows        int            `json:"mining_flows"`
	Detected           int            `json:"detected"`
	Recall             float64        `json:"recall"`
	BenignFlows        int            `json:"benign_flows"`
	FalseAlarmFlows    int            `json:"false_alarm_flows"`
	FPR                float64        `json:"fpr"`
	BenignHours        float64        `json:"benign_flow_hours"`
	FalseAlarmsPerHour float64        `json:"false_alarms_per_benign_flow_hour"`
	ByScenario         map[string]int `json:"detected_by_scenario"`
	MiningByScenario   map[string]int `json:"mining_flows_by_scenario"`
	// MedianFirstAlarm is the median checkpoint (s) of a detected mining
	// flow's first alarm.
	MedianFirstAlarm float64 `json:"median_first_alarm_s"`
	// ByTime is detection and false alarms by each early checkpoint.
	ByTime []TimeLine `json:"by_time"`
}

// TimeLine is what an online detector would have said by At seconds into
// each flow: flows whose first alarm came at or before At (a flow scored
// at its end counts at the checkpoint it beat).
type TimeLine struct {
	At float64 `json:"at_s"`
	// Detected mining flows by scenario, and of TLS and proxy together.
	Detected          map[string]int `json:"detected_by_scenario"`
	EncryptedDetected int            `json:"encrypted_detected"`
	EncryptedRecall   float64        `json:"encrypted_recall"`
	// BenignScored is how many benign flows had a row by At: many more
	// are alive at 10–30 s than at 60 s.
	BenignScored    int     `json:"benign_flows_scored"`
	FalseAlarmFlows int     `json:"false_alarm_flows"`
	FPR             float64 `json:"fpr_per_benign_flow"`
	// BenignHours sums the benign flows' time up to At.
	BenignHours        float64 `json:"benign_flow_hours"`
	FalseAlarmsPerHour float64 `json:"false_alarms_per_benign_flow_hour"`
}

// reportTimes are the checkpoints of FlowSummary.ByTime.
var reportTimes = []float64{10, 20, 30, 60, 120, 300, 600, 1200}

// CaptureLine is one capture's result.
type CaptureLine struct {
	Capture    string  `json:"capture"`
	Label      string  `json:"label"`
	Scenario   string  `json:"scenario"`
	Flows      int     `json:"flows"`
	Alarmed    int     `json:"alarmed"`
	FirstAlarm float64 `json:"first_alarm_s"` // -1 = none
	MaxScore   float64 `json:"max_score"`
}

// NamedValue is a feature and a number (importance).
type NamedValue struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Report is the evaluation of one experiment.
type Report struct {
	Experiment string `json:"experiment"`
	// Warnings are caveats on the figures (eval of a model on captures
	// it was trained on), printed first.
	Warnings []string `json:"warnings,omitempty"`
	// Notes say what the figures count, where that is not obvious.
	Notes      []string `json:"notes,omitempty"`
	FeatureSet string   `json:"feature_set"`
	Excluded   []string `json:"excluded_features"`
	Augmented  bool     `json:"augmented_training"`
	TargetFPR  float64  `json:"target_fpr"`
	// FlowThreshold: TargetFPR is per benign flow, not per benign row.
	FlowThreshold bool `json:"target_fpr_per_flow,omitempty"`
	// PerCheckpoint: one model per checkpoint scored the rows.
	PerCheckpoint bool       `json:"per_checkpoint_models,omitempty"`
	Folds         []FoldInfo `json:"folds"`
	Rows          Slice      `json:"rows"`
	ROCAUC        float64    `json:"roc_auc"`
	AvgPrecision  float64    `json:"average_precision"`
	ByCheckpoint  []Slice    `json:"by_checkpoint"`
	ByScenario    []Slice    `json:"by_scenario"`
	// ByScenarioCheckpoint crosses them at the early checkpoints
	// ("tls@120s"): mining rows of the scenario plus every benign row at
	// that checkpoint.
	ByScenarioCheckpoint []Slice       `json:"by_scenario_checkpoint"`
	Flows                FlowSummary   `json:"flows"`
	Captures             []CaptureLine `json:"captures"`
	PR                   []PRPoint     `json:"pr_curve"`
	Importances          []NamedValue  `json:"importances"`
}

// NewReport summarises scored samples.
func NewReport(name string, cfg Config, scored []Scored, folds []FoldInfo) *Report {
	r := &Report{Experiment: name, FeatureSet: cfg.Set, Excluded: cfg.Exclude, Augmented: cfg.Augment, TargetFPR: cfg.TargetFPR,
		FlowThreshold: cfg.FlowThreshold, PerCheckpoint: cfg.PerCheckpoint, Folds: folds}
	var all Confusion
	byCP := map[float64]*Confusion{}
	bySc := map[string]*Confusion{}
	byScCP := map[string]*Confusion{}
	y := make([]int, len(scored))
	p := make([]float64, len(scored))
	type flowAgg struct {
		y        int
		scenario string
		capture  string
		first    float64 // first alarm checkpoint, -1 none
		firstRow float64 // earliest checkpoint with a row
		dur      float64
		max      float64
	}
	flows := map[string]*flowAgg{}
	for i := range scored {
		s := &scored[i]
		alarm := s.Alarm()
		all.add(s.Y, alarm)
		y[i], p[i] = s.Y, s.Score
		if byCP[s.Checkpoint] == nil {
			byCP[s.Checkpoint] = &Confusion{}
		}
		byCP[s.Checkpoint].add(s.Y, alarm)
		sc := s.Scenario
		if s.Y == 0 {
			sc = "benign"
		}
		if bySc[sc] == nil {
			bySc[sc] = &Confusion{}
		}
		bySc[sc].add(s.Y, alarm)
		if earlyCheckpoints[s.Checkpoint] {
			var keys []string
			if s.Y == 1 {
				keys = []string{s.Scenario}
			} else {
				keys = []string{"plaintext", "tls", "proxy"} // benign rows count against every scenario
			}
			for _, k := range keys {
				k = fmt.Sprintf("%s@%gs", k, s.Checkpoint)
				if byScCP[k] == nil {
					byScCP[k] = &Confusion{}
				}
				byScCP[k].add(s.Y, alarm)
			}
		}
		fa := flows[s.FlowKey]
		if fa == nil {
			fa = &flowAgg{y: s.Y, scenario: sc, capture: s.Capture, first: -1, firstRow: s.Checkpoint}
			flows[s.FlowKey] = fa
		}
		fa.firstRow = math.Min(fa.firstRow, s.Checkpoint)
		if s.Duration > fa.dur {
			fa.dur = s.Duration
		}
		if s.Score > fa.max {
			fa.max = s.Score
		}
		if alarm && (fa.first < 0 || s.Checkpoint < fa.first) {
			fa.first = s.Checkpoint
		}
	}
	r.Rows = newSlice("all checkpoint rows", all)
	r.ROCAUC = nz(ROCAUC(y, p))
	pr, ap := PRCurve(y, p)
	r.AvgPrecision = nz(ap)
	r.PR = downsample(pr, 200)
	cps := make([]float64, 0, len(byCP))
	for c := range byCP {
		cps = append(cps, c)
	}
	sort.Float64s(cps)
	for _, c := range cps {
		r.ByCheckpoint = append(r.ByCheckpoint, newSlice(fmt.Sprintf("%gs", c), *byCP[c]))
	}
	for _, sc := range sortedKeys(bySc) {
		r.ByScenario = append(r.ByScenario, newSlice(sc, *bySc[sc]))
	}
	for _, k := range sortedKeys(byScCP) {
		r.ByScenarioCheckpoint = append(r.ByScenarioCheckpoint, newSlice(k, *byScCP[k]))
	}
	fs := FlowSummary{ByScenario: map[string]int{}, MiningByScenario: map[string]int{}}
	caps := map[string]*CaptureLine{}
	var firsts []float64
	// Sorted, so float sums (flow-hours) are the same in every run: a
	// rebuilt model file must be byte-identical.
	for _, key := range sortedKeys(flows) {
		fa := flows[key]
		cl := caps[fa.capture]
		if cl == nil {
			label := "benign"
			if fa.y == 1 {
				label = "mining"
			}
			cl = &CaptureLine{Capture: fa.capture, Label: label, FirstAlarm: -1}
			caps[fa.capture] = cl
		}
		if fa.y == 1 {
			cl.Label, cl.Scenario = "mining", fa.scenario
		}
		cl.Flows++
		cl.MaxScore = math.Max(cl.MaxScore, fa.max)
		if fa.first >= 0 {
			cl.Alarmed++
			if cl.FirstAlarm < 0 || fa.first < cl.FirstAlarm {
				cl.FirstAlarm = fa.first
			}
		}
		if fa.y == 1 {
			fs.MiningFlows++
			fs.MiningByScenario[fa.scenario]++
			if fa.first >= 0 {
				fs.Detected++
				fs.ByScenario[fa.scenario]++
				firsts = append(firsts, fa.first)
			}
		} else {
			fs.BenignFlows++
			fs.BenignHours += fa.dur / 3600
			if fa.first >= 0 {
				fs.FalseAlarmFlows++
			}
		}
	}
	for _, at := range reportTimes {
		tl := TimeLine{At: at, Detected: map[string]int{}}
		encrypted := fs.MiningByScenario["tls"] + fs.MiningByScenario["proxy"]
		for _, key := range sortedKeys(flows) {
			fa := flows[key]
			alarmed := fa.first >= 0 && fa.first <= at
			if fa.y == 1 {
				if alarmed {
					tl.Detected[fa.scenario]++
					if fa.scenario == "tls" || fa.scenario == "proxy" {
						tl.EncryptedDetected++
					}
				}
				continue
			}
			if fa.firstRow <= at {
				tl.BenignScored++
			}
			tl.BenignHours += math.Min(fa.dur, at) / 3600
			if alarmed {
				tl.FalseAlarmFlows++
			}
		}
		tl.EncryptedRecall = nz(div(tl.EncryptedDetected, encrypted))
		tl.FPR = nz(div(tl.FalseAlarmFlows, fs.BenignFlows))
		if tl.BenignHours > 0 {
			tl.FalseAlarmsPerHour = float64(tl.FalseAlarmFlows) / tl.BenignHours
		}
		fs.ByTime = append(fs.ByTime, tl)
	}
	fs.Recall = nz(div(fs.Detected, fs.MiningFlows))
	fs.FPR = nz(div(fs.FalseAlarmFlows, fs.BenignFlows))
	if fs.BenignHours > 0 {
		fs.FalseAlarmsPerHour = float64(fs.FalseAlarmFlows) / fs.BenignHours
	}
	if len(firsts) > 0 {
		sort.Float64s(firsts)
		fs.MedianFirstAlarm = firsts[len(firsts)/2]
	}
	r.Flows = fs
	for _, k := range sortedKeys(caps) {
		r.Captures = append(r.Captures, *caps[k])
	}
	r.Importances = meanImportances(cfg.Set, folds)
	return r
}

// earlyCheckpoints are the checkpoints crossed with scenarios in reports.
var earlyCheckpoints = map[float64]bool{10: true, 20: true, 30: true, 60: true, 120: true, 300: true}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func downsample(pr []PRPoint, n int) []PRPoint {
	if len(pr) <= n {
		return pr
	}
	out := make([]PRPoint, 0, n+1)
	step := float64(len(pr)-1) / float64(n-1)
	for i := 0; i < n; i++ {
		out = append(out, pr[int(math.Round(float64(i)*step))])
	}
	return out
}

func meanImportances(set string, folds []FoldInfo) []NamedValue {
	defs := flowfeat.Defs(set)
	sum := make([]float64, len(defs))
	n := 0
	for _, f := range folds {
		if len(f.Importances) != len(defs) {
			continue
		}
		for i, v := range f.Importances {
			sum[i] += v
		}
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]NamedValue, len(defs))
	for i, d := range defs {
		out[i] = NamedValue{d.Name, sum[i] / float64(n)}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Value > out[b].Value })
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func pct(v float64) string {
	if v < 0 || math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	per := "row"
	if r.FlowThreshold {
		per = "flow"
	}
	fmt.Fprintf(w, "experiment: %s — feature set %s, target FPR %s per benign %s", r.Experiment, r.FeatureSet, pct(r.TargetFPR), per)
	if r.PerCheckpoint {
		fmt.Fprint(w, ", one model per checkpoint")
	}
	if len(r.Excluded) > 0 {
		fmt.Fprintf(w, ", excluded: %s", strings.Join(r.Excluded, ", "))
	}
	if r.Augmented {
		fmt.Fprint(w, ", trained with record-overhead augmentation")
	}
	fmt.Fprintln(w)
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", x)
	}
	for _, x := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", x)
	}
	for _, f := range r.Folds {
		fmt.Fprintf(w, "  model %d: %d train rows, %d test rows, threshold %.4f\n", f.Fold, f.TrainRows, f.TestRows, f.Threshold)
	}
	fl := r.Flows
	fmt.Fprintf(w, "\nper flow (alarm at any checkpoint): mining %d/%d detected (recall %s), median first alarm at %gs\n",
		fl.Detected, fl.MiningFlows, pct(fl.Recall), fl.MedianFirstAlarm)
	for _, sc := range sortedKeys(fl.MiningByScenario) {
		fmt.Fprintf(w, "  %-10s %d/%d\n", sc, fl.ByScenario[sc], fl.MiningByScenario[sc])
	}
	fmt.Fprintf(w, "  benign: %d false alarms in %d flows (FPR %s), %.2f per benign flow-hour over %.1f flow-hours\n",
		fl.FalseAlarmFlows, fl.BenignFlows, pct(fl.FPR), fl.FalseAlarmsPerHour, fl.BenignHours)
	if len(fl.ByTime) > 0 {
		fmt.Fprintln(w, "\nby checkpoint (first alarm at or before it; FPR per benign flow; false alarms per benign flow-hour up to it):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "by\tTLS+proxy\tTLS\tproxy\tplaintext\tbenign scored\tfalse flows\tFPR\tper flow-hour\t")
		for _, tl := range fl.ByTime {
			fmt.Fprintf(tw, "%gs\t%d/%d\t%d/%d\t%d/%d\t%d/%d\t%d\t%d\t%s\t%.3f\t\n", tl.At,
				tl.EncryptedDetected, fl.MiningByScenario["tls"]+fl.MiningByScenario["proxy"],
				tl.Detected["tls"], fl.MiningByScenario["tls"], tl.Detected["proxy"], fl.MiningByScenario["proxy"],
				tl.Detected["plaintext"], fl.MiningByScenario["plaintext"],
				tl.BenignScored, tl.FalseAlarmFlows, pct(tl.FPR), tl.FalseAlarmsPerHour)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nper row (flow at a checkpoint): ROC AUC %.4f, average precision %.4f\n", r.ROCAUC, r.AvgPrecision)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "slice\tTP\tFN\tFP\tTN\tprecision\trecall\tF1\tFPR\t")
	rows := append([]Slice{r.Rows}, r.ByCheckpoint...)
	rows = append(rows, r.ByScenario...)
	rows = append(rows, r.ByScenarioCheckpoint...)
	for _, s := range rows {
		c := s.Confusion
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", s.Name, c.TP, c.FN, c.FP, c.TN, pct(s.Precision), pct(s.Recall), pct(s.F1), pct(s.FPR))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nper capture (flows alarmed / flows, first alarm checkpoint, max score):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Captures {
		if c.Label == "benign" && c.Alarmed == 0 {
			continue // listed only when they raise alarms, to keep the report short
		}
		first := "-"
		if c.FirstAlarm >= 0 {
			first = fmt.Sprintf("%gs", c.FirstAlarm)
		}
		sc := c.Scenario
		if sc == "" {
			sc = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d/%d\t%s\t%.3f\n", c.Capture, c.Label, sc, c.Alarmed, c.Flows, first, c.MaxScore)
	}
	tw.Flush()
	fmt.Fprintln(w, "(benign captures without alarms are not listed)")
	if len(r.Importances) > 0 {
		fmt.Fprintln(w, "\ntop features (mean impurity importance):")
		for i, f := range r.Importances {
			if i == 15 {
				break
			}
			fmt.Fprintf(w, "  %-24s %.4f\n", f.Name, f.Value)
		}
	}
}
