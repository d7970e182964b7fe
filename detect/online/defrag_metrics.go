package online

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minerwatch/minerwatch/features/defrag"
)

var (
	descFrags = prometheus.NewDesc("minerwatch_ip_fragments_total",
		"IP fragment reassembly: fragments taken in (outcome taken) and what became of them and their datagrams: "+
			"reassembled, timed_out, evicted (memcap or datagram cap), overlap, conflict (overlap with different bytes), "+
			"oversize, too_many (fragments per datagram), truncated and malformed (passed through unreassembled).",
		[]string{"worker", "outcome"}, nil)
	descFragHeld = prometheus.NewDesc("minerwatch_ip_fragments_held_bytes",
		"Bytes held for incomplete IP datagrams (against the fragment memcap).", []string{"worker"}, nil)
)

// defragStats returns w's reassembly counters plus those of a replay
// dispatcher that reassembles before the workers (reported through the
// first worker's source only, so sums over workers count them once).
func (w *worker) defragStats() defrag.Stats {
	s := w.defragSnapshot()
	if ds, ok := w.src.(interface{ DefragStats() defrag.Stats }); ok {
		s.Add(ds.DefragStats())
	}
	return s
}

// collectDefrag exports one worker's reassembly counters.
func collectDefrag(ch chan<- prometheus.Metric, w *worker, id string) {
	s := w.defragStats()
	for _, o := range []struct {
		name string
		v    int64
	}{
		{"taken", s.Fragments}, {"reassembled", s.Reassembled}, {"timed_out", s.TimedOut}, {"evicted", s.Evicted},
		{"incomplete", s.Incomplete}, {"overlap", s.Overlaps}, {"conflict", s.Conflicts}, {"oversize", s.Oversize},
		{"too_many", s.TooMany}, {"truncated", s.Truncated}, {"malformed", s.Malformed},
	} {
		ch <- prometheus.MustNewConstMetric(descFrags, prometheus.CounterValue, float64(o.v), id, o.name)
	}
	ch <- prometheus.MustNewConstMetric(descFragHeld, prometheus.GaugeValue, float64(s.HeldBytes), id)
}
