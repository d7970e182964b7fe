package online

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
)

// metrics owns the runner's Prometheus registry. Per-packet counters are
// the workers' atomics, read at scrape time by collector; only rare events
// (alerts, scores) touch client_golang types on the hot path.
type metrics struct {
	reg    *prometheus.Registry
	alerts *prometheus.CounterVec
	score  prometheus.Histogram
}

func newMetrics(r *Runner) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "minerwatch_alerts_total", Help: "Alert events written, by detector.",
	}, []string{"detector"})
	for _, d := range []string{alert.DetectorIntel, alert.DetectorSignature, alert.DetectorModel} {
		m.alerts.WithLabelValues(d) // export zeros, so rate() works from the start
	}
	m.score = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "minerwatch_model_score_seconds", Help: "Time to score one flow window with the model.",
		Buckets: prometheus.ExponentialBuckets(250e-9, 2, 14), // 250 ns … 2 ms
	})
	m.reg.MustRegister(m.alerts, m.score, collector{r}, prometheus.NewGoCollector())
	m.reg.MustRegister(r.cfg.Collectors...)
	return m
}

// timedScorer observes each Score call's latency.
type timedScorer struct {
	engine.Scorer
	h prometheus.Histogram
}

// Probability passes engine.Prober through, so --rows-out rows carry the
// exact score (not timed: it is not on the alerting path).
func (t timedScorer) Probability(x []float64) float64 {
	if p, ok := t.Scorer.(engine.Prober); ok {
		return p.Probability(x)
	}
	return math.NaN()
}

func (t timedScorer) Score(x []float64) (float64, []alert.FeatureValue) {
	start := time.Now()
	s, top := t.Scorer.Score(x)
	t.h.Observe(time.Since(start).Seconds())
	return s, top
}

var (
	descPackets    = prometheus.NewDesc("minerwatch_packets_total", "Frames received by a worker.", []string{"worker"}, nil)
	descBytes      = prometheus.NewDesc("minerwatch_bytes_total", "Frame bytes (on the wire) received by a worker.", []string{"worker"}, nil)
	descUndecoded  = prometheus.NewDesc("minerwatch_packets_undecoded_total", "Frames that were not IP or were malformed.", []string{"worker"}, nil)
	descKPackets   = prometheus.NewDesc("minerwatch_kernel_packets_total", "Frames the kernel passed to the capture socket (after the filter).", []string{"worker"}, nil)
	descKDrops     = prometheus.NewDesc("minerwatch_kernel_drops_total", "Frames the kernel dropped because the capture ring was full.", []string{"worker"}, nil)
	descActive     = prometheus.NewDesc("minerwatch_flows_active", "Flows in the worker's table.", []string{"worker"}, nil)
	descCreated    = prometheus.NewDesc("minerwatch_flows_created_total", "Flows started.", []string{"worker"}, nil)
	descEvicted    = prometheus.NewDesc("minerwatch_flows_evicted_total", "Flows evicted because the table was full.", []string{"worker"}, nil)
	descEnded      = prometheus.NewDesc("minerwatch_flows_ended_total", "Flows ended, by reason.", []string{"worker", "reason"}, nil)
	descReasm      = prometheus.NewDesc("minerwatch_reassembly_bytes", "Bytes held for TCP stream reassembly.", []string{"worker"}, nil)
	descReasmMax   = prometheus.NewDesc("minerwatch_reassembly_limit_bytes", "Reassembly memory cap per worker.", []string{"worker"}, nil)
	descReasmRefus = prometheus.NewDesc("minerwatch_reassembly_refused_bytes_total", "Bytes not reassembled because the cap was reached.", []string{"worker"}, nil)
	descScored     = prometheus.NewDesc("minerwatch_model_scored_total", "Flow windows scored by the model.", []string{"worker"}, nil)
	// Every table keyed by traffic is bounded; what its bound cost is counted.
	descCapped = prometheus.NewDesc("minerwatch_capped_total",
		"Entries evicted or events folded because a bounded table or rate limit was full, by table: hosts, dns_dedup, intel_rate (engine tables), intel_alerts (intel alerts folded into intel_summary events).",
		[]string{"worker", "table"}, nil)
	descEarned          = prometheus.NewDesc("minerwatch_flows_earned_total", "Flows given stage state (signature, features) at their first payload or first due feature row; the others cost only a small record.", []string{"worker"}, nil)
	descConflicts       = prometheus.NewDesc("minerwatch_stream_overlap_conflicts_total", "TCP retransmissions whose bytes differed from the copy already read (a decoy or insertion attempt); such flows are read a second way.", []string{"worker"}, nil)
	descHostViewEvicted = prometheus.NewDesc("minerwatch_host_view_evicted_total", "Hosts evicted from the /hosts view (bounded at MaxHosts).", nil, nil)
)

var endReasons = [...]string{"idle", "closed", "reused", "evicted", "flush"}

// collector reads the workers at scrape time.
type collector struct{ r *Runner }

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	for _, w := range c.r.workers {
		id := strconv.Itoa(w.id)
		counter(descPackets, float64(w.packets.Load()), id)
		counter(descBytes, float64(w.bytes.Load()), id)
		counter(descUndecoded, float64(w.undecoded.Load()), id)
		if ks, ok := w.src.(KernelStatser); ok {
			if st, err := ks.KernelStats(); err == nil {
				counter(descKPackets, float64(st.Packets), id)
				counter(descKDrops, float64(st.Drops), id)
			}
		}
		s := w.snapshot()
		gauge(descActive, float64(s.Flows.Active), id)
		counter(descCreated, float64(s.Flows.FlowsCreated), id)
		counter(descEvicted, float64(s.Flows.Evicted), id)
		for i, n := range s.Flows.FlowsEnded {
			counter(descEnded, float64(n), id, endReasons[i])
		}
		gauge(descReasm, float64(s.Budget.InUse), id)
		gauge(descReasmMax, float64(s.Budget.Max), id)
		counter(descReasmRefus, float64(s.Budget.RefusedBytes), id)
		counter(descScored, float64(s.Scored), id)
		collectDefrag(ch, w, id)
		counter(descEarned, float64(s.Earned), id)
		counter(descConflicts, float64(s.Signature.OverlapConflicts), id)
		counter(descCapped, float64(s.Capped.HostsEvicted), id, "hosts")
		counter(descCapped, float64(s.Capped.DNSSeenEvicted), id, "dns_dedup")
		counter(descCapped, float64(s.Capped.IntelEndpointsEvicted), id, "intel_rate")
		counter(descCapped, float64(s.Capped.IntelSuppressed), id, "intel_alerts")
	}
	counter(descHostViewEvicted, float64(c.r.hosts.Evicted()))
}

// Handler serves /metrics (Prometheus text format) and /hosts (the
// per-host view as JSON).
func (r *Runner) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(r.metrics.reg, promhttp.HandlerOpts{}))
	mux.Handle("/hosts", r.hosts)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			return
		}
		w.Write([]byte("minerwatch: /metrics (Prometheus), /hosts (per-host state, JSON)\n"))
	})
	return mux
}
