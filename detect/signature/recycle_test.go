package signature_test

import (
	"reflect"
	"testing"

	"github.com/minerwatch/minerwatch/detect/internal/flowtest"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
)

// TestRecycledFlowReadsLikeANewOne: the engine recycles Flow shells
// (Reset, then Init with the engine's Shared); whatever the shell read
// before (another dialect, a proxy preamble, HTTP, SV2 frames), it must
// reach the same verdict and counters as a new Flow.
func TestRecycledFlowReadsLikeANewOne(t *testing.T) {
	budget := reassembly.NewBudget(1 << 20)
	sh := signature.NewShared(signature.DefaultConfig(), budget)
	shell := signature.New(signature.DefaultConfig(), budget)
	cases := dialectCases()
	for round := range 2 { // the second round starts from the last case's leftovers
		for i, tc := range cases {
			seg := 7 * round
			fresh := signature.New(signature.DefaultConfig(), budget)
			flowtest.Script{Segment: seg}.Run(fresh, tc.msgs)
			fresh.Finish()
			want, wantStats := fresh.Verdict(), fresh.Stats()
			fresh.Close()

			shell.Reset()
			shell.Init(sh)
			flowtest.Script{Segment: seg}.Run(shell, tc.msgs)
			shell.Finish()
			if got := shell.Verdict(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s (after %s): recycled verdict %+v, new %+v", tc.name, cases[(i+len(cases)-1)%len(cases)].name, got, want)
			}
			if got := shell.Stats(); got != wantStats {
				t.Errorf("%s: recycled stats %+v, new %+v", tc.name, got, wantStats)
			}
		}
	}
	shell.Reset()
	if n := budget.Stats().InUse; n != 0 {
		t.Errorf("%d bytes still charged to the budget after Reset", n)
	}
}
