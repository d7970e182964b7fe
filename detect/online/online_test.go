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
	"github.com/minerwatch/minerwatch/detect/score"
	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flowfeat"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"github.com/minerwatch/minerwatch/models/defaultmodel"
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
	res := replayUntil(t, cfg, filepath.Join(data, "lab/mining/xmrig-tls-443.pcap"), 2, speed, 30*time.Second, false)
	first, model, arrived, end := res.first, res.model, res.arrived, res.end
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

// The same with the shipped model at the recorded pace: the model alert
// of the live path comes at the checkpoint where the offline path's score
// first crosses the threshold, half a minute into a twenty-minute flow.
// Speeding the replay up would change the rates the model reads, so this
// runs at speed 1 and stops at the alert (about 35 s; skipped with -short).
func TestRealtimeReplayWithShippedModelAlertsAtTheOfflineCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 35 s real-time replay")
	}
	capturePath, sc := shippedModelOnTLSCapture(t)
	cfg := engine.DefaultConfig()
	cfg.Model = sc

	// Offline: which checkpoint first crosses the threshold?
	want := offlineModelCheckpoint(t, capturePath, cfg)
	if want <= 0 || want > 120 {
		t.Fatalf("offline model alert at %vs; this test expects an early one", want)
	}

	// The flow has 19 more minutes after its alert: stop there.
	res := replayUntil(t, cfg, capturePath, 1, 1, time.Duration(want+30)*time.Second, true)
	first, model, arrived, start := res.first, res.model, res.arrived, res.start
	if model == nil {
		t.Fatal("no model alert from the live path")
	}
	if model.Model.Checkpoint != want {
		t.Errorf("live alert at the %vs checkpoint, offline at %vs", model.Model.Checkpoint, want)
	}
	if got := model.Timestamp.Sub(first); got != time.Duration(want*float64(time.Second)) {
		t.Errorf("alert timestamp is flow start + %v, want + %vs", got, want)
	}
	if el := arrived.Sub(start); el > time.Duration(want+5)*time.Second {
		t.Errorf("alert arrived %v into the replay, checkpoint at %vs", el, want)
	}
}

// Issue 16 asks for the model alert at the 10-30 s checkpoint of a
// --realtime replay. The shipped model cannot give it: it trains on rows
// from 60 s, and the models trained on rows from 10 s that were measured
// raised more false alarms per benign flow-hour than it does (README
// "Early verdicts"), so the schedule stays 60, 120, 300 s. What the live
// path does at 10, 20 and 30 s is still checked, with the shipped model
// on that schedule (--checkpoints 10,20,30,60,120,300,+300): xmrig-tls-443
// answers its login at 0.1 s, sends shares at 1.8 and 7.3 s and is then
// quiet until 31.1 s (scripts/early-ceiling.py), so its 10 and 20 s rows
// can only come from Advance, a second after each checkpoint, not from a
// packet. Each live row must come then, carry the offline path's score
// for that checkpoint (the offline tracker emits every listed checkpoint
// a packet passes), and stay below the threshold as offline (0.19 at
// 30 s, threshold 0.53): no model alert by 30 s. About 33 s of wall
// clock at speed 1 (rates depend on it); skipped with -short.
func TestRealtimeReplayScoresTheEarlyCheckpointsAsOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 33 s real-time replay")
	}
	capturePath, sc := shippedModelOnTLSCapture(t)
	cp, err := flowfeat.ParseCheckpoints("10,20,30,60,120,300,+300")
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Model, cfg.Checkpoints = sc, cp
	early := map[float64]bool{10: true, 20: true, 30: true}

	// Offline: the score of each early checkpoint row of the mining flow.
	offline := map[float64]float64{}
	offCfg := cfg
	offCfg.OnRow = func(r *flowfeat.Row, fi *engine.FlowInfo) {
		if r.Kind == flowfeat.KindCheckpoint && r.Flow.Server.Port() == 443 && early[r.Checkpoint.Seconds()] {
			offline[r.Checkpoint.Seconds()] = float64(fi.ModelScore)
		}
	}
	if cp := offlineModelCheckpoint(t, capturePath, offCfg); cp > 0 && cp <= 30 {
		t.Fatalf("the shipped model alerts offline at %vs: it can do what issue 16 asks, test that instead", cp)
	}
	if len(offline) != 3 {
		t.Fatalf("offline early rows %v, want the 10, 20 and 30 s ones", offline)
	}

	type liveRow struct {
		score   float64
		arrived time.Time
	}
	var (
		mu    sync.Mutex
		live  = map[float64]liveRow{}
		model *alert.Alert
	)
	srcs, replay, err := online.Replay(online.ReplayConfig{Files: []string{capturePath}, Workers: 1, Realtime: true, Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	r := online.New(online.Config{Engine: cfg, Name: "replay",
		OnRow: func(row *flowfeat.Row, fi *engine.FlowInfo) {
			mu.Lock()
			defer mu.Unlock()
			if row.Kind == flowfeat.KindCheckpoint && row.Flow.Server.Port() == 443 && early[row.Checkpoint.Seconds()] {
				live[row.Checkpoint.Seconds()] = liveRow{float64(fi.ModelScore), time.Now()}
				if len(live) == 3 {
					cancel()
				}
			}
		},
		OnAlert: func(a *alert.Alert) {
			mu.Lock()
			defer mu.Unlock()
			if a.Detector == alert.DetectorModel && model == nil {
				model = a
			}
		}}, srcs)
	start := time.Now()
	go replay(ctx)
	_ = r.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	if model != nil {
		t.Errorf("model alert at %vs; offline there is none by 30 s", model.Model.Checkpoint)
	}
	for c := range early {
		lr, ok := live[c]
		if !ok {
			t.Errorf("no live row at the %vs checkpoint", c)
			continue
		}
		t.Logf("%vs: score %.3f live, %.3f offline, row %v after the checkpoint", c, lr.score, offline[c], lr.arrived.Sub(start)-time.Duration(c*float64(time.Second)))
		if d := lr.score - offline[c]; d > 1e-6 || d < -1e-6 {
			t.Errorf("%vs: live score %v, offline %v", c, lr.score, offline[c])
		}
		// The replay rebases time: the checkpoint's wall-clock moment is
		// the replay's start plus the offset (the flow's first packet is
		// the capture's first).
		if lag := lr.arrived.Sub(start) - time.Duration(c*float64(time.Second)); lag > 3*time.Second {
			t.Errorf("%vs row came %v after its checkpoint: not from Advance", c, lag)
		}
	}
}

// replayed is what replayUntil saw.
type replayed struct {
	first, start, arrived, end time.Time // flow start; replay start; model alert written; replay done
	model                      *alert.Alert
}

// replayUntil replays a capture through the online path at speed and
// records the first model alert, stopping there when stopAtAlert.
func replayUntil(t *testing.T, cfg engine.Config, path string, workers int, speed float64, limit time.Duration, stopAtAlert bool) replayed {
	t.Helper()
	srcs, replay, err := online.Replay(online.ReplayConfig{Files: []string{path}, Workers: workers, Realtime: true, Speed: speed})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var (
		mu  sync.Mutex
		res replayed
	)
	r := online.New(online.Config{Engine: cfg, Name: "replay",
		OnRow: func(row *flowfeat.Row, _ *engine.FlowInfo) {
			mu.Lock()
			res.first = row.Flow.First
			mu.Unlock()
		},
		OnAlert: func(a *alert.Alert) {
			mu.Lock()
			defer mu.Unlock()
			if a.Detector == alert.DetectorModel && res.model == nil {
				res.model, res.arrived = a, time.Now()
				if stopAtAlert {
					cancel()
				}
			}
		}}, srcs)
	res.start = time.Now()
	go replay(ctx)
	if err := r.Run(ctx); err != nil && !stopAtAlert {
		t.Fatal(err)
	}
	res.end = time.Now()
	mu.Lock()
	defer mu.Unlock()
	return res
}

// offlineModelCheckpoint runs the capture through the offline path and
// returns the checkpoint (s) of its model alert, 0 if none.
func offlineModelCheckpoint(t *testing.T, path string, cfg engine.Config) float64 {
	t.Helper()
	rd, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	cp := 0.0
	e := engine.New(cfg, func(a *alert.Alert) {
		if a.Detector == alert.DetectorModel && cp == 0 {
			cp = a.Model.Checkpoint
		}
	})
	if _, err := ingest.Run(context.Background(), rd, nil, ingest.Options{Sink: e.Packet}); err != nil {
		t.Fatal(err)
	}
	e.Flush()
	return cp
}

// shippedModelOnTLSCapture returns the shared lab's TLS mining capture and
// the shipped model's scorer, what the real-time model tests replay.
func shippedModelOnTLSCapture(t *testing.T) (string, *score.Scorer) {
	t.Helper()
	data := shareddata.Require(t)
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := score.New(m, defaultmodel.ID)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(data, "lab/mining/xmrig-tls-443.pcap"), sc
}
