package engine_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// elapsedScorer reads the seq set's last column, the flow's age at the
// row, and scores high only past 100 s: it tells a row at the 10 s
// checkpoint from a row at a flow's end minutes later.
type elapsedScorer struct{ calls int }

func (s *elapsedScorer) FeatureSet() string { return flowfeat.SetSeq }
func (s *elapsedScorer) Threshold() float64 { return 0.5 }
func (s *elapsedScorer) ID() string         { return "elapsed" }
func (s *elapsedScorer) Score(x []float64) (float64, []alert.FeatureValue) {
	s.calls++
	if x[len(x)-1] > 100 {
		return 0.99, nil
	}
	return 0.1, nil
}

// A miner whose pool closes the connection every 5 minutes
// (xmrig-tls12-9999-reconnect: 4 TLS flows, per the dataset README) with
// a single 10 s checkpoint: each flow is scored at 10 s and, with
// ScoreAtEnd, again at its end; without it the flows slip past.
func TestFlowEndingBetweenCheckpointsIsScoredAtItsEnd(t *testing.T) {
	data := shareddata.Require(t)
	path := filepath.Join(data, "lab/mining/xmrig-tls12-9999-reconnect.pcap")
	cp, err := flowfeat.ParseCheckpoints("10")
	if err != nil {
		t.Fatal(err)
	}
	for _, atEnd := range []bool{false, true} {
		cfg := engine.DefaultConfig()
		cfg.Checkpoints, cfg.ScoreAtEnd = cp, atEnd
		sc := &elapsedScorer{}
		cfg.Model = sc
		alerts, _ := run(t, path, cfg)
		var model []*alert.Alert
		for _, a := range alerts {
			if a.Detector == alert.DetectorModel {
				model = append(model, a)
			}
		}
		if !atEnd {
			if len(model) != 0 {
				t.Errorf("without ScoreAtEnd: %d model alerts, want none (only the 10 s rows were scored)", len(model))
			}
			continue
		}
		t.Logf("ScoreAtEnd: %d model alerts, %d scores", len(model), sc.calls)
		if len(model) < 3 {
			t.Fatalf("with ScoreAtEnd: %d model alerts (%d scores), want one per completed 5-minute flow", len(model), sc.calls)
		}
		for _, a := range model {
			if !strings.Contains(a.Reason, "at flow end") || a.Model.Checkpoint < 100 {
				t.Errorf("alert %q at %vs: want a flow-end alert minutes in", a.Reason, a.Model.Checkpoint)
			}
		}
	}
}
