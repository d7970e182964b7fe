package kafka

import "github.com/prometheus/client_golang/prometheus"

var (
	descProduced  = prometheus.NewDesc("minerwatch_kafka_produced_total", "Records acknowledged by the Kafka brokers.", nil, nil)
	descDropped   = prometheus.NewDesc("minerwatch_kafka_dropped_total", "Records not delivered to Kafka, by reason: buffer (the in-memory bound was reached while the brokers were unreachable) or error.", []string{"reason"}, nil)
	descBuffered  = prometheus.NewDesc("minerwatch_kafka_buffered_records", "Records waiting in memory for the Kafka brokers.", nil, nil)
	descBufBytes  = prometheus.NewDesc("minerwatch_kafka_buffered_bytes", "Bytes waiting in memory for the Kafka brokers.", nil, nil)
	descPublished = prometheus.NewDesc("minerwatch_kafka_learned_published_total", "Learned pool endpoints this sensor published to the learned topic.", nil, nil)
	descApplied   = prometheus.NewDesc("minerwatch_kafka_learned_applied_total", "Learned-topic records applied to this sensor's learned list, by kind: entry, tombstone, refused (new endpoints past the list's bound).", []string{"kind"}, nil)
	descLag       = prometheus.NewDesc("minerwatch_kafka_learned_lag_records", "Records of the learned topic not yet read by this sensor.", nil, nil)
)

// Collector returns the sink's Prometheus metrics.
func (s *Sink) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Sink }

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	m := func(d *prometheus.Desc, t prometheus.ValueType, v int64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, float64(v), l...)
	}
	m(descProduced, prometheus.CounterValue, st.Produced)
	m(descDropped, prometheus.CounterValue, st.Dropped, "buffer")
	m(descDropped, prometheus.CounterValue, st.Failed, "error")
	m(descBuffered, prometheus.GaugeValue, st.Buffered)
	m(descBufBytes, prometheus.GaugeValue, st.BufferedBytes)
	m(descPublished, prometheus.CounterValue, st.LearnedPublished)
	m(descApplied, prometheus.CounterValue, st.LearnedApplied, "entry")
	m(descApplied, prometheus.CounterValue, st.LearnedRemoved, "tombstone")
	m(descApplied, prometheus.CounterValue, st.LearnedRefused, "refused")
	m(descLag, prometheus.GaugeValue, st.LearnedLag)
}
