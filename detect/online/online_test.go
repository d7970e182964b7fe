package online_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/online"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// stubScorer stands in for the forest (the model stage is wired
// separately): it scores below threshold until its n-th call, then high.
// With one flow and MinScorePackets 0, call k is checkpoint k.
type stubScorer struct {
	from  int64
	calls atomic.Int64
}

func (s *stubScorer) FeatureSet() string { return flowfeat.SetMW51 }
func (s *stubScorer) Threshold() float64 { return 0.5 }
func (s *stubScorer) ID() string         { return "stub" }
func (s *stubScorer) Score([]float64) (float64, []alert.FeatureValue) {
	if s.calls.Add(1) >= s.from {
		return 0.99, nil
	}
	return 0.1, nil
}

// On a --realtime replay of a TLS mining capture, the model's alert comes
// at the first checkpoint whose score crosses the threshold — stamped with
// that checkpoint's time and emitted while the flow is still running —
// not when the flow ends.
func TestRealtimeReplayAlertsAtTheFirstCheckpointOverThreshold(t *testing.T) {
	data := shareddata.Require(t)
	// xmrig-tls-443: one TLS XMRig session of 20 minutes (capinfos);
	// at 100× it lasts 12 s of wall clock. Checkpoints are in replayed
	// (rebased, sped-up) time: 1 s, 2 s, then every second.
	const speed = 100
	cp, err := flowfeat.ParseCheckpoints("1,2,+1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Checkpoints = cp
	cfg.MinScorePackets = 0
	stub := &stubScorer{from: 2}
	cfg.Model = stub
	srcs, replay, err := online.Replay(online.ReplayConfig{
		Files: []string{filepath.Join(data, "lab/mining/xmrig-tls-443.pcap")}, Workers: 2, Realtime: true, Speed: speed})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		first   time.Time
		model   *alert.Alert
		arrived time.Time
	)
	r := online.New(online.Config{Engine: cfg, Name: "replay",
		OnRow: func(row *flowfeat.Row, _ *engine.FlowInfo) {
			mu.Lock()
			first = row.Flow.First
			mu.Unlock()
		},
		OnAlert: func(a *alert.Alert) {
			mu.Lock()
			defer mu.Unlock()
			if a.Detector == alert.DetectorModel && model == nil {
				model, arrived = a, time.Now()
			}
		}}, srcs)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go replay(ctx)
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if model == nil {
		t.Fatalf("no model alert (stub called %d times)", stub.calls.Load())
	}
	if model.Model.Checkpoint != 2 {
		t.Errorf("alert at the %vs checkpoint, want 2s (the stub's first high score)", model.Model.Checkpoint)
	}
	if got := model.Timestamp.Sub(first); got != 2*time.Second {
		t.Errorf("alert timestamp is flow start + %v, want + 2s (the checkpoint)", got)
	}
	// Emitted within a moment of the checkpoint (the next packet of the
	// flow triggers it), and seconds before the replay ended.
	if lag := arrived.Sub(model.Timestamp); lag > 2*time.Second {
		t.Errorf("alert written %v after its checkpoint", lag)
	}
	if early := end.Sub(arrived); early < 5*time.Second {
		t.Errorf("alert only %v before the end of the flow: not an early alert", early)
	}
}
