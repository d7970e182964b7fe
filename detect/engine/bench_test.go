package engine_test

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

type frame struct {
	rec  capture.Record
	data []byte
}

func loadFrames(b *testing.B, paths ...string) ([]frame, int64) {
	var out []frame
	var bytes int64
	for _, p := range paths {
		r, err := capture.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		var rec capture.Record
		for {
			if err := r.Next(&rec); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			f := frame{rec: rec, data: append([]byte(nil), rec.Data...)}
			out = append(out, f)
			bytes += int64(rec.OrigLen)
		}
		r.Close()
	}
	return out, bytes
}

// BenchmarkWholePipeline runs decode + flow table + all three stages
// (default intel, signature, shipped model) over captures held in memory:
// the nDPI mining trace and a lab TLS mining capture, the pair the README
// compares with `ndpiReader -i` on the same files.
func BenchmarkWholePipeline(b *testing.B) {
	root := shareddata.Require(b)
	frames, bytes := loadFrames(b,
		filepath.Join(root, "public/mining/ntop_nDPI__mining.pcapng"),
		filepath.Join(root, "public/benign/ntop_nDPI__chrome.pcap"),
		filepath.Join(root, "lab/mining/xmrig-tls-443.pcap"))
	cfg := defaultConfig(&testing.T{})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		var d decode.Decoder
		var p packet.Packet
		e := engine.New(cfg, func(*alert.Alert) {})
		for i := range frames {
			f := &frames[i]
			if d.Decode(f.rec.LinkType, f.data, f.rec.Time, &p) == decode.OK {
				p.FrameLen = f.rec.OrigLen
				e.Packet(&p)
			}
		}
		e.Flush()
	}
	el := time.Since(start).Seconds()
	pkts := float64(len(frames) * b.N)
	b.ReportMetric(pkts/el, "pkts/s")
	b.ReportMetric(float64(bytes)*8*float64(b.N)/el/1e9, "Gbit/s")
	b.ReportMetric(el*1e9/pkts, "ns/pkt")
}
