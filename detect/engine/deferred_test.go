package engine_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// plainScorer hides the model's PartialScorer side: the engine then computes
// every row's periodicity features before scoring, as it did before rows
// could defer them.
type plainScorer struct{ engine.Scorer }

// Deferring the periodicity features until the model asks for them
// changes no alert: every manifest capture, with the default model,
// intel and signatures, gives the same events, field for field, as
// computing them for every row; and the deferral does skip some, and
// counts (and times apart from scoring) those the model asked for.
func TestDeferredPeriodicityGivesTheSameAlerts(t *testing.T) {
	root := shareddata.Require(t)
	m, err := manifest.Load(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var skipped, computed, modelAlerts int64
	// One model for every run (it is immutable); intel fresh per run, as
	// its learned list is each capture's own.
	model := defaultConfig(t).Model
	if _, ok := model.(engine.PartialScorer); !ok {
		t.Fatal("the shipped model's scorer is not a PartialScorer: nothing is deferred")
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		cfg := defaultIntelConfig(t)
		cfg.Model = model
		gotAlerts, st := runEngine(t, e.File, cfg, nil)
		got := eventsJSON(t, gotAlerts)
		skipped += st.PeriodsSkipped
		computed += st.PeriodsComputed
		if (st.PeriodsComputed == 0) != (st.PeriodNanos == 0) {
			t.Errorf("%s: %d periodicities computed in %d ns", e.Path, st.PeriodsComputed, st.PeriodNanos)
		}
		modelAlerts += st.Alerts[alert.DetectorModel]
		cfg = defaultIntelConfig(t)
		cfg.Model = plainScorer{model}
		wantAlerts, eager := runEngine(t, e.File, cfg, nil)
		if eager.PeriodsComputed+eager.PeriodsSkipped != 0 {
			t.Errorf("%s: eager rows deferred periodicities: %d computed, %d skipped", e.Path, eager.PeriodsComputed, eager.PeriodsSkipped)
		}
		want := eventsJSON(t, wantAlerts)
		if len(got) != len(want) {
			t.Fatalf("%s: %d events with deferred periodicity, %d without", e.Path, len(got), len(want))
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("%s: event %d differs:\n deferred %s\n eager    %s", e.Path, k, got[k], want[k])
			}
		}
	}
	t.Logf("%d periodicities never computed, %d computed on demand, %d model alerts", skipped, computed, modelAlerts)
	if skipped == 0 || computed == 0 || modelAlerts == 0 {
		t.Fatalf("%d periodicities skipped, %d computed, %d model alerts: the comparison proved nothing", skipped, computed, modelAlerts)
	}
}

func eventsJSON(t *testing.T, alerts []*alert.Alert) []string {
	t.Helper()
	out := make([]string, len(alerts))
	for i, a := range alerts {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// defaultIntelConfig is the default configuration with the default intel
// and no model.
func defaultIntelConfig(t *testing.T) engine.Config {
	t.Helper()
	in, _, err := intel.Load(intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Intel = in
	return cfg
}
