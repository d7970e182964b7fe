package forest

import (
	"os"
	"testing"
)

func TestProfTmp(t *testing.T) {
	if os.Getenv("PROF") == "" {
		t.Skip()
	}
	X, y := benchData(100_000, 51)
	Train(X, y, Params{Trees: 10, Seed: 1, Workers: 1})
}
