package forest

import (
	"os"
	"testing"
	"time"
)

func TestProfTmp(t *testing.T) {
	if os.Getenv("PROF") == "" {
		t.Skip()
	}
	X, y := benchData(100_000, 51)
	start := time.Now()
	f, _ := Train(X, y, Params{Trees: 10, Seed: 1})
	t.Log("train", time.Since(start), f.NumNodes())
	// depth stats
	maxd, sumd := 0, 0
	for _, r := range f.roots[:1] {
		for i := 0; i < 1000; i++ {
			d := 0
			n := r
			row := X[i]
			for !f.nodes[n].isLeaf(n) {
				nd := f.nodes[n]
				v := row[nd.feature]
				l := nd.kids &^ nanLeftBit
				if goesLeft(v, nd.threshold, nd.kids>>31 == 1) {
					n = l
				} else {
					n = l + 1
				}
				d++
			}
			sumd += d
			maxd = max(maxd, d)
		}
	}
	t.Log("depth mean", float64(sumd)/1000, "max", maxd)
	start = time.Now()
	s := 0.0
	for i := range 1000 {
		s += f.PredictProba(X[i*7])
	}
	t.Log("predict", time.Since(start)/1000)
}
