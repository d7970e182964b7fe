package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/kafka/kafkatest"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// BenchmarkDetectToKafka runs the whole pipeline (shipped model on) on
// the `make bench` capture — $MINERWATCH_BENCH_CAPTURE (e.g.
// out/bench/merged-k10.pcap), else benchgen's merged capture of the
// shared datasets with one copy, built in a temp dir — twice per
// iteration: without Kafka, with --kafka (events only) and with --kafka
// --kafka-flows, against a real single-node broker. It reports the packet
// rate of each, and the events (alerts and flow events) and flow records
// per second delivered to the broker, start-up (topic creation, learned
// topic read) and the wait for the last acknowledgements included;
// dropped records would mean the sensor did not keep up.
//
//	go test -run '^$' -bench DetectToKafka -benchtime 1x ./cmd/minerwatch
func BenchmarkDetectToKafka(b *testing.B) {
	capture := os.Getenv("MINERWATCH_BENCH_CAPTURE")
	if capture == "" {
		shared := shareddata.Require(b)
		capture = filepath.Join(b.TempDir(), "merged-k1.pcap")
		gen := exec.Command("go", "run", "./internal/benchgen", "merged", "-k", "1", "-o", capture, shared)
		gen.Dir = "../.."
		if out, err := gen.CombinedOutput(); err != nil {
			b.Fatalf("benchgen: %v\n%s", err, out)
		}
	}
	broker := kafkatest.Start(b)
	dir := b.TempDir()
	var plain, alertsOnly, withFlows time.Duration
	var pkts, events, rows, dropped int64
	run := func(i int, name string, extra ...string) (string, time.Duration) {
		args := append([]string{"detect", "-r", capture, "-o", filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", name, i)), "--stats"}, extra...)
		start := time.Now()
		code, _, stderr := runCmd(args...)
		el := time.Since(start)
		if code != 0 {
			b.Fatalf("detect %v: exit %d: %s", extra, code, stderr)
		}
		return stderr, el
	}
	// counts reads --stats: packets, and the kafka line's counts.
	counts := func(stderr string) (p, prod, fr, lost int64) {
		if i := strings.Index(stderr, "packets "); i >= 0 {
			fmt.Sscanf(stderr[i:], "packets %d", &p)
		}
		i := strings.Index(stderr, "kafka: produced ")
		if i < 0 {
			b.Fatalf("no kafka line in --stats: %s", stderr)
		}
		var dr, fail int64
		fmt.Sscanf(stderr[i:], "kafka: produced %d (flow records %d), dropped %d, failed %d", &prod, &fr, &dr, &fail)
		return p, prod, fr, dr + fail
	}
	for i := 0; i < b.N; i++ {
		_, el := run(i, "plain")
		plain += el
		// Learned pools are not shared between the runs: each run
		// must raise the same alerts as the one without Kafka.
		stderr, el := run(i, "alerts", "--kafka", broker.Addr, "--kafka-learned-topic", "-")
		alertsOnly += el
		p, prod, _, lost := counts(stderr)
		if logged := lines(b, filepath.Join(dir, fmt.Sprintf("alerts-%d.jsonl", i))); int64(logged) != prod {
			b.Errorf("%d events in the alert log, %d delivered to Kafka", logged, prod)
		}
		pkts += p
		events += prod
		dropped += lost
		stderr, el = run(i, "flows", "--kafka", broker.Addr, "--kafka-learned-topic", "-", "--kafka-flows")
		withFlows += el
		_, _, fr, lost := counts(stderr)
		rows += fr
		dropped += lost
	}
	b.ReportMetric(float64(pkts)/alertsOnly.Seconds(), "pkts/s-kafka-alerts")
	b.ReportMetric(float64(events)/alertsOnly.Seconds(), "events/s")
	b.ReportMetric(float64(pkts)/plain.Seconds(), "pkts/s-without-kafka")
	b.ReportMetric(float64(pkts)/withFlows.Seconds(), "pkts/s-kafka-flows")
	b.ReportMetric(float64(rows)/withFlows.Seconds(), "flow-records/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/run")
	b.ReportMetric(float64(rows)/float64(b.N), "flow-records/run")
	b.ReportMetric(float64(dropped), "dropped")
}

func lines(b *testing.B, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}
