package signature_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/internal/flowtest"
	"github.com/minerwatch/minerwatch/detect/reassembly"
	"github.com/minerwatch/minerwatch/detect/signature"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/train/manifest"
)

// expectedFamilies says which dialect families a capture's mining flows
// speak, from the manifest note, the datasets README and tshark follow.
func expectedFamilies(path string) []string {
	switch {
	case strings.Contains(path, "ntop_nDPI__mining"): // Zcash Stratum, xmr-stak-cpu, eth-proxy
		return []string{"stratum-v1", "cryptonote", "ethereum"}
	case strings.Contains(path, "ethereum"), strings.Contains(path, "pool.eth"):
		return []string{"ethereum"}
	case strings.Contains(path, "cgminer"), strings.Contains(path, "bitcoin-mining"):
		return []string{"stratum-v1", "getwork"}
	case strings.Contains(path, "xmr"), strings.Contains(path, "TakeshiYoshikawa"):
		return []string{"cryptonote"}
	case strings.Contains(path, "cpuminer"), strings.Contains(path, "zec-"):
		return []string{"stratum-v1"}
	}
	return nil
}

type row struct {
	path                          string
	scenario                      string
	expected, detected, falseHits int
	attempts, silent              int // labelled mining, only a client-side attempt / no mining bytes at all
	missed, wrongDialect, falses  []string
}

// TestManifestCapturesAreDetectedExactly runs stage 1 over every capture of
// the shared datasets manifest: every plaintext mining flow (per the
// manifest's truth, minus ignored flows) must be detected with a dialect of
// the expected family, and no benign flow may be. Mining flows of TLS and
// encrypted-proxy captures cannot be read by stage 1 and are not expected
// (stage 2 covers them); they must simply not produce false alerts.
func TestManifestCapturesAreDetectedExactly(t *testing.T) {
	shared, ok := flowtest.SharedDir()
	if !ok {
		t.Skip("../shared/datasets/manifest.tsv not found (set MINERWATCH_SHARED): skipping the dataset evaluation")
	}
	m, err := manifest.Load(filepath.Join(shared, "datasets", "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	budget := reassembly.NewBudget(256 << 20)
	var rows []row
	for _, e := range m.Entries {
		flows, err := flowtest.Run(signature.DefaultConfig(), budget, e.File)
		if err != nil {
			t.Errorf("%s: %v", e.Path, err)
			continue
		}
		r := row{path: e.Path, scenario: e.Scenario}
		fams := expectedFamilies(e.Path)
		for _, f := range flows {
			v := f.Sig.Verdict()
			// The engine asks Attempted instead of building every flow's
			// verdict at its end: it must say what the verdict says.
			if got, want := f.Sig.Attempted(), v.Attempt && !v.Mining; got != want {
				t.Errorf("%s %v→%v: Attempted() = %v, the verdict says %v", e.Path, f.Client, f.Server, got, want)
			}
			truth := e.Truth(f.Client, f.Server)
			name := fmt.Sprintf("%v→%v", f.Client, f.Server)
			switch {
			case truth == manifest.Ignored:
			case truth == manifest.Mining && e.Scenario == "plaintext":
				r.expected++
				switch {
				case v.Mining:
					r.detected++
					if !contains(fams, stratum.Family(v.Dialect)) {
						r.wrongDialect = append(r.wrongDialect, name+" "+v.Dialect)
					}
				case v.Attempt:
					// The miner asked (subscribe/GBT/login) but no server
					// answered in mining vocabulary: a dead or wrong pool.
					// Rule 3 forbids a verdict on one side alone.
					r.attempts++
				case f.Sig.Stats().MiningMessages > 0:
					// One side only (e.g. a lone server push to a client
					// that had already reset): rule 3, same column.
					r.attempts++
				default:
					r.missed = append(r.missed, name)
				}
			case truth == manifest.Mining:
				if v.Mining {
					r.detected++ // encrypted: a bonus (only the Noise rule could do this)
				}
			default:
				if v.Mining || v.Attempt {
					r.falseHits++
					r.falses = append(r.falses, fmt.Sprintf("%s mining=%v attempt=%v %s", name, v.Mining, v.Attempt, v.Reason))
				}
			}
			f.Sig.Close()
		}
		rows = append(rows, r)
	}
	if st := budget.Stats(); st.InUse != 0 {
		t.Errorf("budget still holds %d bytes after every flow was closed", st.InUse)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].path < rows[j].path })
	var tot row
	t.Logf("%-80s %-9s %8s %8s %8s %6s", "capture", "scenario", "expected", "detected", "1-sided", "false")
	for _, r := range rows {
		t.Logf("%-80s %-9s %8d %8d %8d %6d", r.path, r.scenario, r.expected, r.detected, r.attempts, r.falseHits)
		tot.expected += r.expected
		tot.detected += r.detected
		tot.attempts += r.attempts
		tot.falseHits += r.falseHits
		for _, s := range r.missed {
			t.Errorf("%s: mining flow not detected: %s", r.path, s)
		}
		for _, s := range r.wrongDialect {
			t.Errorf("%s: wrong dialect: %s (want %v)", r.path, s, expectedFamilies(r.path))
		}
		for _, s := range r.falses {
			t.Errorf("%s: false alert: %s", r.path, s)
		}
	}
	t.Logf("%-80s %-9s %8d %8d %8d %6d", "TOTAL", "", tot.expected, tot.detected, tot.attempts, tot.falseHits)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
