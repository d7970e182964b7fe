package parallel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/parallel"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// BenchmarkDetect is `detect -r` over every lab mining capture (about
// 11k frames, merged in time order, read from the page cache) with the
// default intel and the shipped model: one engine on the existing path,
// then the parallel path with 1, 2 and 3 workers. One op is one whole run
// (flows set up and flushed). Compare pkts/s between the sub-benchmarks;
// the speed-up needs as many idle cores as workers plus the reader. On a
// shared machine the wall clock says little; cpu-ns/pkt (the process's
// user+system time per packet, getrusage) is the cost of the parallel
// path's bookkeeping, and cores (CPU time over wall time) how much of the
// machine the run got; requests/pkt how many decisions the workers left
// to the merger, and the idle metrics where the pipeline stalled.
//
// MINERWATCH_BENCH_PCAP=FILE runs it on FILE instead (e.g. make bench's
// merged-k10.pcap, with -benchtime 1x).
func BenchmarkDetect(b *testing.B) {
	var paths []string
	if p := os.Getenv("MINERWATCH_BENCH_PCAP"); p != "" {
		paths = []string{p}
	} else {
		root := shareddata.Require(b)
		paths, _ = filepath.Glob(filepath.Join(root, "lab", "mining", "*.pcap"))
	}
	if len(paths) == 0 {
		b.Skip("no lab captures")
	}
	cfg := config(b)
	count := func(r *capture.Reader) float64 { return float64(r.Stats().Records) }
	b.Run("one-engine", func(b *testing.B) {
		var pkts float64
		cpu0 := cpuTime(b)
		for b.Loop() {
			r, err := capture.Open(paths...)
			if err != nil {
				b.Fatal(err)
			}
			eng := engine.New(cfg, func(*alert.Alert) {})
			if _, err := ingest.Run(context.Background(), r, nil, ingest.Options{Sink: eng.Packet}); err != nil {
				b.Fatal(err)
			}
			eng.Flush()
			pkts += count(r)
			r.Close()
		}
		report(b, pkts, cpuTime(b)-cpu0)
	})
	for _, w := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			var pkts, reqs, idle, ridle, midle float64
			cpu0 := cpuTime(b)
			for b.Loop() {
				r, err := capture.Open(paths...)
				if err != nil {
					b.Fatal(err)
				}
				st, _, err := parallel.Run(context.Background(), r, parallel.Config{Engine: cfg, Workers: w, Names: names(paths)},
					func(*alert.Alert) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				pkts += count(r)
				reqs += float64(st.Requests)
				for _, d := range st.Idle {
					idle += d.Seconds()
				}
				ridle += st.ReaderIdle.Seconds()
				midle += st.MergerIdle.Seconds()
				r.Close()
			}
			report(b, pkts, cpuTime(b)-cpu0)
			// The decisions left to the merger (engine.Request), per packet.
			b.ReportMetric(reqs/pkts, "requests/pkt")
			// The pipeline's stalls, per run (no worker waits for another's
			// packets): the workers' summed time without an epoch (or with
			// one the merger has not taken back), the reader's, the merger's.
			runs := float64(b.N)
			b.ReportMetric(idle/runs, "worker-idle-s/op")
			b.ReportMetric(ridle/runs, "reader-idle-s/op")
			b.ReportMetric(midle/runs, "merger-idle-s/op")
		})
	}
}

func report(b *testing.B, pkts float64, cpu time.Duration) {
	b.ReportMetric(pkts/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/pkts, "cpu-ns/pkt")
	b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "cores")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
