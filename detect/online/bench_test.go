package online_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/online"
	"github.com/minerwatch/minerwatch/features/live"
	"github.com/minerwatch/minerwatch/features/live/livetest"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// BenchmarkLiveVeth replays a 200-flow TLS capture (4,397 frames) into a
// veth pair with tcpreplay at a fixed rate and runs the whole online
// pipeline (2 workers: decode, flows, signature, TLS/intel taps) on the
// other end. It reports the rate achieved and the kernel's drops: the
// highest rate with 0 drops is what this machine sustains. tcpreplay runs
// on the same 2 cores, so the figure is a lower bound.
func BenchmarkLiveVeth(b *testing.B) {
	data := shareddata.Require(b)
	file := filepath.Join(data, "lab/mining/mixed-xmrig-tls13-sni-443-plus-https-benign.pcap")
	for _, pps := range []int{20000, 50000, 100000, 0} {
		name := fmt.Sprintf("pps=%d", pps)
		if pps == 0 {
			name = "topspeed"
		}
		b.Run(name, func(b *testing.B) {
			nw := livetest.New(b)
			var g *live.Group
			if err := nw.Do(func() (err error) {
				g, err = live.Open(live.Config{Interface: nw.Capture, Workers: 2})
				return err
			}); err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			r := online.New(online.Config{Engine: engine.DefaultConfig(), Name: nw.Capture}, online.LiveSources(g))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			rate := "--topspeed"
			if pps > 0 {
				rate = fmt.Sprintf("--pps=%d", pps)
			}
			loops := max(b.N, 20)
			b.ResetTimer()
			start := time.Now()
			nw.Replay(b, file, rate, fmt.Sprintf("--loop=%d", loops))
			sent := float64(4397 * loops)
			for i := 0; i < 40 && float64(r.Totals().Packets) < sent; i++ {
				time.Sleep(50 * time.Millisecond)
			}
			el := time.Since(start).Seconds()
			b.StopTimer()
			cancel()
			<-done
			t := r.Totals()
			b.ReportMetric(float64(t.Packets)/el, "pkts/s")
			b.ReportMetric(float64(t.KernelDrops), "drops")
			b.ReportMetric(sent-float64(t.Packets), "missing")
		})
	}
}
