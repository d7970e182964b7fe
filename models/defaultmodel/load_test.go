package defaultmodel_test

import (
	"testing"

	"github.com/minerwatch/minerwatch/models/defaultmodel"
	"github.com/minerwatch/minerwatch/models/forest"
)

// BenchmarkLoad measures what every detect run pays before its first
// packet: decoding the embedded model (gunzip, JSON, validation, the
// scoring copy) and building its Bounder, as detect/score.New does.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m, err := defaultmodel.Load()
		if err != nil {
			b.Fatal(err)
		}
		_ = forest.NewBounder(m.Forest)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}

// BenchmarkGunzip is the share of BenchmarkLoad spent inflating the file.
func BenchmarkGunzip(b *testing.B) {
	for b.Loop() {
		if _, err := defaultmodel.Inflate(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}
