package online_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/engine"
	"github.com/minerwatch/minerwatch/detect/online"
	"github.com/minerwatch/minerwatch/features/defrag/defragtest"
)

// A replay whose every payload packet is in IPv4 fragments, over three
// workers: the dispatcher reassembles before the flow hash, the signature
// alert comes, and the reassembly shows in the totals and in /metrics.
func TestFragmentedReplayIsReassembledAndCounted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frag.pcap")
	n, err := defragtest.Rewrite("../../datasets/samples/xmrig-plain-3333.pcap", path, false,
		func(ip []byte) ([][]byte, error) { return defragtest.Split(ip, 32, 0) })
	if err != nil {
		t.Fatal(err)
	}
	srcs, replay, err := online.Replay(online.ReplayConfig{Files: []string{path}, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	var sig atomic.Int64
	r := online.New(online.Config{Engine: engine.DefaultConfig(), Name: "frag.pcap", OnAlert: func(a *alert.Alert) {
		if a.Detector == alert.DetectorSignature {
			sig.Add(1)
		}
	}}, srcs)
	done := make(chan error, 1)
	go func() { done <- replay(context.Background()) }()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sig.Load() == 0 {
		t.Error("no signature alert on the fragmented session")
	}
	if got := r.Totals().Defrag; got.Reassembled != int64(n) || got.Conflicts != 0 || got.HeldBytes != 0 {
		t.Errorf("totals %v, want %d reassembled", got, n)
	}
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	re := regexp.MustCompile(`(?m)^minerwatch_ip_fragments_total\{outcome="reassembled",worker="(\d+)"\} (\d+)$`)
	sum := 0
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.Atoi(m[2])
		sum += v
	}
	if sum != n {
		t.Errorf("metrics say %d reassembled, want %d:\n%s", sum, n, body)
	}
}
