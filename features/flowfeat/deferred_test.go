package flowfeat_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// deferredRows runs a capture through a DeferPeriod tracker whose rows
// are completed during the emit call (down first on even rows, up first
// on odd ones: the memo and scratch must not care), after checking that
// every pending column is NaN until then.
func deferredRows(t *testing.T, path string, cfg flowfeat.TrackerConfig) (rows []string, pending int) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	down, up, ok := flowfeat.PeriodColumns(flowfeat.SetMW51)
	if !ok {
		t.Fatal("mw51 has no periodicity columns")
	}
	cfg.DeferPeriod = true
	o := &rowsObserver{}
	o.tr = flowfeat.NewTracker(cfg, func(row *flowfeat.Row) {
		m := row.Values.Set(flowfeat.SetMW51)
		pd, pu := row.PeriodPending()
		for _, c := range []struct {
			pending bool
			cols    [2]int
		}{{pd, down}, {pu, up}} {
			if c.pending {
				pending++
				if !math.IsNaN(m[c.cols[0]]) || !math.IsNaN(m[c.cols[1]]) {
					t.Fatalf("pending periodicity columns %v hold %v, %v before CompletePeriod", c.cols, m[c.cols[0]], m[c.cols[1]])
				}
			}
		}
		order := []packet.Direction{packet.Down, packet.Up}
		if len(rows)%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, d := range order {
			row.CompletePeriod(d)
			row.CompletePeriod(d) // a second call is a no-op
		}
		if pd, pu := row.PeriodPending(); pd || pu {
			t.Fatal("still pending after CompletePeriod")
		}
		rows = append(rows, rowText(row))
	})
	if _, err := ingest.Run(context.Background(), r, flows.NewTable(flows.DefaultConfig(), o), ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return rows, pending
}

// A DeferPeriod tracker's rows, once completed, are the eager rows bit for
// bit: every manifest capture, checkpoints, 10 s windows and end rows.
func TestDeferredPeriodRowsCompleteToTheEagerRows(t *testing.T) {
	root := shareddata.Require(t)
	m, err := manifest.Load(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := flowfeat.TrackerConfig{Checkpoints: flowfeat.DefaultCheckpoints(), Window: 10 * time.Second}
	total, pending := 0, 0
	for i := range m.Entries {
		want := trackerRows(t, m.Entries[i].File, cfg, false)
		got, p := deferredRows(t, m.Entries[i].File, cfg)
		total += len(want)
		pending += p
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: completed deferred rows differ from eager ones (%d vs %d rows)", m.Entries[i].Path, len(got), len(want))
		}
	}
	if total == 0 || pending == 0 {
		t.Fatalf("%d rows, %d pending periodicities: the comparison proved nothing", total, pending)
	}
	t.Logf("%d rows, %d directions' periodicity deferred and completed", total, pending)
}

func TestPeriodColumnsNameThePeriodFeatures(t *testing.T) {
	for _, set := range []string{flowfeat.SetMW51, flowfeat.SetMW51X, flowfeat.SetMW51XSeq} {
		down, up, ok := flowfeat.PeriodColumns(set)
		names := flowfeat.Names([]string{set})
		if !ok || names[down[0]] != "down_period" || names[down[1]] != "down_period_strength" ||
			names[up[0]] != "up_period" || names[up[1]] != "up_period_strength" {
			t.Errorf("%s: PeriodColumns = %v, %v, %v", set, down, up, ok)
		}
	}
	for _, set := range []string{flowfeat.SetNetFlow8, flowfeat.SetDeCrypto12} {
		if _, _, ok := flowfeat.PeriodColumns(set); ok {
			t.Errorf("%s has no periodicity features, PeriodColumns says it has", set)
		}
	}
}
