package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/features/defrag/defragtest"
)

// refragment rewrites the sample XMRig session (a real capture: login,
// job, submits, results in both directions) into path, handing every IP
// packet that carries TCP payload to shape (see defragtest.Rewrite).
// Returns how many packets were reshaped.
func refragment(t *testing.T, path string, v6 bool, shape func(ip []byte) [][]byte) int {
	t.Helper()
	n, err := defragtest.Rewrite(sample, path, v6, func(ip []byte) ([][]byte, error) { return shape(ip), nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func splitOrFail(t *testing.T, ip []byte, size int, id uint32) [][]byte {
	fs, err := defragtest.Split(ip, size, id)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestFragmentedStratumSessionIsAlerted(t *testing.T) {
	id := uint32(0)
	cases := []struct {
		name  string
		v6    bool
		shape func(t *testing.T, ip []byte) [][]byte
	}{
		{"ipv4 fragments of 48 bytes", false, func(t *testing.T, ip []byte) [][]byte {
			return splitOrFail(t, ip, 48, 0)
		}},
		{"ipv6 fragment headers", true, func(t *testing.T, ip []byte) [][]byte {
			id++
			return splitOrFail(t, ip, 48, id)
		}},
		{"ipv4 reversed with overlapping duplicates", false, func(t *testing.T, ip []byte) [][]byte {
			small := splitOrFail(t, ip, 24, 0)
			big := splitOrFail(t, ip, 96, 0)
			out := [][]byte{big[0]} // the first 96 bytes again, overlapping four small ones
			for i := len(small) - 1; i >= 0; i-- {
				out = append(out, small[i])
			}
			return append(out, small[0])
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "frag.pcap")
			n := refragment(t, path, tc.v6, func(ip []byte) [][]byte { return tc.shape(t, ip) })
			if n < 10 {
				t.Fatalf("only %d packets carried payload", n)
			}
			code, stdout, stderr := runCmd("detect", "--no-learned", "--stats", "-r", path)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			sig := 0
			sc := bufio.NewScanner(strings.NewReader(stdout))
			for sc.Scan() {
				var a struct {
					Ours struct {
						Detector string `json:"detector"`
					} `json:"minerwatch"`
					DestPort int `json:"dest_port"`
				}
				if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
					t.Fatalf("not JSON: %s", sc.Text())
				}
				if a.Ours.Detector == "signature" && a.DestPort == 3333 {
					sig++
				}
			}
			if sig == 0 {
				t.Errorf("no signature alert on the fragmented session:\n%s\n%s", stdout, stderr)
			}
			// Every payload-carrying packet became one datagram again; the
			// duplicates overlap with the same bytes, so nothing conflicts.
			if !strings.Contains(stderr, "reassembled "+strconv.Itoa(n)+" datagrams") || !strings.Contains(stderr, "(conflicting 0)") {
				t.Errorf("want %d reassembled and no conflict in the stats:\n%s", n, stderr)
			}
		})
	}
}

// The flows command sees the ports of a fragmented session: without
// reassembly its later fragments were port-less packets.
func TestFlowsOfFragmentedSessionHavePorts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frag.pcap")
	refragment(t, path, false, func(ip []byte) [][]byte { return splitOrFail(t, ip, 32, 0) })
	code, stdout, stderr := runCmd("flows", "-r", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, " 0 without ports") {
		t.Errorf("fragments left without ports: %s", stderr)
	}
	if strings.Count(stdout, ":3333") != 1 {
		t.Errorf("want one flow to port 3333:\n%s", stdout)
	}
}

// The online path (replay with --realtime, as on an interface) reassembles
// too: with one worker in the worker, with several in the dispatcher before
// the flow hash (a later fragment has no ports to hash on; with 7 workers
// a dispatcher that did not reassemble would split most datagrams).
func TestFragmentedSessionIsAlertedOnline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frag.pcap")
	n := refragment(t, path, false, func(ip []byte) [][]byte { return splitOrFail(t, ip, 40, 0) })
	for _, workers := range []string{"1", "2", "7"} {
		code, stdout, stderr := runCmd("detect", "--no-learned", "--realtime", "--speed", "100000", "--workers", workers, "-r", path)
		if code != 0 {
			t.Fatalf("workers %s: exit %d: %s", workers, code, stderr)
		}
		if !strings.Contains(stdout, `"detector":"signature"`) {
			t.Errorf("workers %s: no signature alert:\n%s\n%s", workers, stdout, stderr)
		}
		if !strings.Contains(stderr, "reassembled "+strconv.Itoa(n)+" datagrams") {
			t.Errorf("workers %s: want %d reassembled in the exit report:\n%s", workers, n, stderr)
		}
	}
}
