package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = "../../datasets/samples/xmrig-plain-3333.pcap"

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestBadInputGivesOneErrorLineAndNonZeroExit(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("this is not a capture file\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"flows on a text file", []string{"flows", "-r", text}, "not a pcap or pcapng capture"},
		{"flows on a missing file", []string{"flows", "-r", filepath.Join(dir, "missing.pcap")}, "no such file"},
		{"flows without -r", []string{"flows"}, "no capture given"},
		{"features without -o", []string{"features", "-r", sample}, "no output given"},
		{"features with an unknown set", []string{"features", "-r", sample, "--set", "xyz", "-o", filepath.Join(dir, "o.arrow")}, "unknown feature set"},
		{"features with bad checkpoints", []string{"features", "-r", sample, "--checkpoints", "abc", "-o", filepath.Join(dir, "o.arrow")}, "checkpoint"},
		{"features on a text file", []string{"features", "-r", text, "-o", filepath.Join(dir, "o.arrow")}, "not a pcap or pcapng capture"},
		{"detect on a text file", []string{"detect", "--no-learned", "-r", text}, "not a pcap or pcapng capture"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCmd(c.args...)
			if code == 0 {
				t.Fatalf("exit 0, want non-zero")
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr = %q, want one line containing %q", stderr, c.want)
			}
		})
	}
	// A failed features run leaves no output file behind.
	if _, err := os.Stat(filepath.Join(dir, "o.arrow")); !os.IsNotExist(err) {
		t.Errorf("failed run left o.arrow behind (err=%v)", err)
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range knownCommands() {
		code, stdout, _ := runCmd(cmd, "--help")
		if code != 0 || !strings.Contains(stdout, "Usage: minerwatch "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %q", cmd, code, stdout)
		}
	}
	if code, stdout, _ := runCmd("--help"); code != 0 || !strings.Contains(stdout, "Commands:") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout)
	}
}

func TestFlowsPrintsOneLinePerFlow(t *testing.T) {
	code, stdout, stderr := runCmd("flows", "-r", sample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	// Header + one TCP flow: the sample holds one Stratum connection (162
	// packets up, 90 down, per tshark -z conv,tcp).
	if len(lines) != 2 || !strings.Contains(lines[1], "162") || !strings.Contains(lines[1], "90") {
		t.Errorf("flows output:\n%s", stdout)
	}
}

func TestDetectAlertsAreEVELikeJSONLines(t *testing.T) {
	code, stdout, stderr := runCmd("detect", "--no-learned", "-r", sample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		for _, k := range []string{"timestamp", "event_type", "flow_id", "community_id", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "host", "flow", "minerwatch"} {
			if _, ok := m[k]; !ok {
				t.Errorf("event lacks %q: %s", k, sc.Text())
			}
		}
		ours, _ := m["minerwatch"].(map[string]any)
		for _, k := range []string{"detector", "confidence", "reason"} {
			if _, ok := ours[k]; !ok {
				t.Errorf("event lacks minerwatch.%s: %s", k, sc.Text())
			}
		}
		if _, ok := m["alert"]; ok != (m["event_type"] == "alert") {
			t.Errorf("an alert object belongs to alert events only: %s", sc.Text())
		}
		n++
	}
	if n != 2 { // the signature alert and its flow event
		t.Errorf("events = %d, want 2:\n%s", n, stdout)
	}
}

// detect --summary on a clean capture says how much was looked at, not a
// bare table header; --stats counts alerts by detector, not as a Go map.
func TestDetectSummaryAndStatsReadAsSentences(t *testing.T) {
	samples := "../../datasets/samples/"
	cases := []struct {
		name  string
		files []string
		want  []string
		not   []string
	}{
		{"clean capture", []string{samples + "benign_https-poll-curl-tls13_20min.pcap"},
			[]string{"no mining found in 1 flow (256 packets)\n", "alerts 0,"}, []string{"HOST", "map["}},
		{"the three demo scenarios", []string{samples + "xmrig-plain-3333.pcap", samples + "xmrig-tls-443.pcap", samples + "xmrig-shadowsocks.pcap"},
			[]string{"CAPTURE", "xmrig-plain-3333.pcap", "xmrig-tls-443.pcap", "xmrig-shadowsocks.pcap", "alerts 3 (signature 1, model 2)"},
			[]string{"no mining found", "map["}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCmd(append([]string{"detect", "--no-learned", "--summary", "--stats"}, c.files...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, n := range c.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has %q:\n%s", n, stderr)
				}
			}
		})
	}
}

func TestAlertCounts(t *testing.T) {
	cases := []struct {
		by   map[string]int64
		want string
	}{
		{nil, "alerts 0"},
		{map[string]int64{"model": 2, "signature": 1}, "alerts 3 (signature 1, model 2)"},
		{map[string]int64{"intel": 4, "zeta": 1, "alpha": 2, "model": 0}, "alerts 7 (intel 4, alpha 2, zeta 1)"},
	}
	for _, c := range cases {
		if got := alertCounts(c.by); got != c.want {
			t.Errorf("alertCounts(%v) = %q, want %q", c.by, got, c.want)
		}
	}
}
