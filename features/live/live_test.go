package live_test

import (
	"bufio"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/live"
	"github.com/minerwatch/minerwatch/features/live/livetest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// flowSeen is what the fanout test records per flow key.
type flowSeen struct {
	workers map[int]bool
	dirs    map[string]bool // "src>dst" of the packets seen
}

// capture reads every socket of g until quiet for 500ms after done is
// closed, recording which worker saw each flow.
func capture(t *testing.T, g *live.Group, done <-chan struct{}) (map[flows.Key]*flowSeen, []int) {
	var (
		mu   sync.Mutex
		seen = map[flows.Key]*flowSeen{}
		per  = make([]int, len(g.Sockets()))
		wg   sync.WaitGroup
	)
	for i, s := range g.Sockets() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				d     decode.Decoder
				p     packet.Packet
				quiet time.Time
			)
			for {
				data, ci, err := s.Read()
				if errors.Is(err, live.ErrTimeout) {
					select {
					case <-done:
						if quiet.IsZero() {
							quiet = time.Now()
						} else if time.Since(quiet) > 500*time.Millisecond {
							return
						}
					default:
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				quiet = time.Time{}
				if d.Decode(g.LinkType(), data, ci.Timestamp, &p) != decode.OK || !p.HasPorts {
					continue
				}
				k := flows.KeyOf(&p)
				mu.Lock()
				per[i]++
				fs := seen[k]
				if fs == nil {
					fs = &flowSeen{workers: map[int]bool{}, dirs: map[string]bool{}}
					seen[k] = fs
				}
				fs.workers[i] = true
				fs.dirs[p.SrcIP.String()+">"+p.DstIP.String()] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return seen, per
}

// The kernel's fanout hash is symmetric for TCP and UDP: with two workers,
// both directions of every flow of a 200-flow replay land on the same
// worker, and the flows are spread over both workers.
func TestFanoutKeepsBothDirectionsOfAFlowOnOneWorker(t *testing.T) {
	data := shareddata.Require(t)
	nw := livetest.New(t)
	var g *live.Group
	if err := nw.Do(func() (err error) {
		g, err = live.Open(live.Config{Interface: nw.Capture, Workers: 2, Promiscuous: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// 200 TLS flows (xmrig + HTTPS browsing), each with both directions.
		nw.Replay(t, filepath.Join(data, "lab/mining/mixed-xmrig-tls13-sni-443-plus-https-benign.pcap"), "--topspeed")
	}()
	seen, per := capture(t, g, done)
	if len(seen) < 100 {
		t.Fatalf("saw %d flows, want the capture's 200", len(seen))
	}
	bidir := 0
	for k, fs := range seen {
		if len(fs.workers) != 1 {
			t.Errorf("flow %v reached workers %v", k, fs.workers)
		}
		if len(fs.dirs) == 2 {
			bidir++
		}
	}
	if bidir < len(seen)*9/10 {
		t.Errorf("only %d of %d flows seen in both directions: the test proves little", bidir, len(seen))
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf("packets per worker %v: fanout did not spread the flows", per)
	}
	t.Logf("%d flows (%d bidirectional), packets per worker %v", len(seen), bidir, per)
}

// A filter attached to the sockets keeps other traffic out of user space.
func TestFilterProgramKeepsOnlyMatchingFrames(t *testing.T) {
	data := shareddata.Require(t)
	nw := livetest.New(t)
	// `tcpdump -ddd -s 65535 'tcp port 443'` for Ethernet (libpcap 1.10.3,
	// checked by TestLibpcapCompilesTheSameProgram), so the
	// test runs in builds without the libpcap compiler too.
	prog, err := live.ParseProgram(bufio.NewScanner(strings.NewReader(tcp443)))
	if err != nil {
		t.Fatal(err)
	}
	var g *live.Group
	if err := nw.Do(func() (err error) {
		g, err = live.Open(live.Config{Interface: nw.Capture, Workers: 1, Filter: prog})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nw.Replay(t, filepath.Join(data, "lab/mining/xmrig-plain-3333.pcap"), "--topspeed")
		nw.Replay(t, filepath.Join(data, "lab/mining/xmrig-tls-443.pcap"), "--topspeed")
	}()
	seen, _ := capture(t, g, done)
	if len(seen) == 0 {
		t.Fatal("no frame passed the filter")
	}
	for k := range seen {
		if k.LoPort != 443 && k.HiPort != 443 {
			t.Errorf("flow %v passed a tcp port 443 filter", k)
		}
	}
}

const tcp443 = `20
40 0 0 12
21 0 6 34525
48 0 0 20
21 0 15 6
40 0 0 54
21 12 0 443
40 0 0 56
21 10 11 443
21 0 10 2048
48 0 0 23
21 0 8 6
40 0 0 20
69 6 0 8191
177 0 0 14
72 0 0 14
21 2 0 443
72 0 0 16
21 0 1 443
6 0 0 65535
6 0 0 0
`
