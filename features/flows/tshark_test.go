package flows_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/ingest"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

type dirCount struct{ frames, bytes uint64 }

// loadTsharkConv reads testdata/tshark_conv.tsv (made once by
// gen_tshark_conv.py with tshark 4.0.17) into per-file directional counts:
// file → "proto src dst" → frames, frame bytes.
func loadTsharkConv(t *testing.T) map[string]map[string]dirCount {
	f, err := os.Open("testdata/tshark_conv.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]dirCount{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "file\t") {
			continue
		}
		v := strings.Split(line, "\t")
		n := make([]uint64, 4)
		for i := range n {
			n[i], _ = strconv.ParseUint(v[4+i], 10, 64)
		}
		m := out[v[0]]
		if m == nil {
			m = map[string]dirCount{}
			out[v[0]] = m
		}
		if n[0] > 0 {
			m[v[1]+" "+v[2]+" "+v[3]] = dirCount{n[0], n[1]}
		}
		if n[2] > 0 {
			m[v[1]+" "+v[3]+" "+v[2]] = dirCount{n[2], n[3]}
		}
	}
	return out
}

type collector struct{ m map[string]dirCount }

func protoName(p uint8) string {
	if p == packet.ProtoTCP {
		return "tcp"
	}
	return "udp"
}

func (c *collector) FlowStarted(*flows.Flow)                              {}
func (c *collector) Packet(*flows.Flow, *packet.Packet, packet.Direction) {}
func (c *collector) ActiveRecord(*flows.Record)                           {}
func (c *collector) FlowEnded(f *flows.Flow, _ flows.EndReason) {
	if f.Proto != packet.ProtoTCP && f.Proto != packet.ProtoUDP {
		return
	}
	add := func(src, dst string, n flows.Counters) {
		if n.Pkts == 0 {
			return
		}
		k := protoName(f.Proto) + " " + src + " " + dst
		d := c.m[k]
		d.frames += n.Pkts
		d.bytes += n.Frames
		c.m[k] = d
	}
	add(f.Client.String(), f.Server.String(), f.Up)
	add(f.Server.String(), f.Client.String(), f.Down)
}

// TestFlowCountsMatchTshark checks every capture in the shared datasets:
// per conversation and direction, our flow table counts the same frames
// and frame bytes as tshark. Flows split by our timeouts or by port reuse
// are summed per 5-tuple, as tshark's table is keyed by the 5-tuple.
func TestFlowCountsMatchTshark(t *testing.T) {
	root := shareddata.Require(t)
	want := loadTsharkConv(t)
	files := make([]string, 0, len(want))
	for f := range want {
		files = append(files, f)
	}
	sort.Strings(files)
	if len(files) < 100 {
		t.Fatalf("expected counts for >100 captures, got %d", len(files))
	}
	for _, rel := range files {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			r, err := capture.Open(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			c := &collector{m: map[string]dirCount{}}
			tab := flows.NewTable(flows.DefaultConfig(), c)
			if _, err := ingest.Run(context.Background(), r, tab, ingest.Options{}); err != nil {
				t.Fatal(err)
			}
			var diffs []string
			for k, w := range want[rel] {
				if g := c.m[k]; g != w {
					diffs = append(diffs, fmt.Sprintf("%s: got %d frames/%d bytes, tshark %d/%d", k, g.frames, g.bytes, w.frames, w.bytes))
				}
			}
			for k, g := range c.m {
				if _, ok := want[rel][k]; !ok {
					diffs = append(diffs, fmt.Sprintf("%s: got %d frames/%d bytes, tshark has no such conversation", k, g.frames, g.bytes))
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				if len(diffs) > 10 {
					diffs = append(diffs[:10], fmt.Sprintf("… and %d more", len(diffs)-10))
				}
				t.Errorf("%d of %d directional conversations differ:\n%s", len(diffs), len(want[rel]), strings.Join(diffs, "\n"))
			}
		})
	}
}
