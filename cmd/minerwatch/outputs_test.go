package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// copySample copies the plaintext XMRig sample into dir as name.
func copySample(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// noTemps fails if a `.NAME.tmp-*` file is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}

func isCharDevice(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeCharDevice != 0
}

// -o onto a character device writes through it: /dev/null stays a device
// and the run succeeds; /dev/full (ENOSPC on every write) makes the run
// fail with the write error and is still a device afterwards. (As root,
// the old rename-into-place replaced the device node by a regular file.)
func TestOutputOntoACharacterDeviceStaysADevice(t *testing.T) {
	for _, c := range []struct {
		name, dev string
		args      []string
		ok        bool
	}{
		{"features to /dev/null", "/dev/null", []string{"features", "-r", sample, "--format", "arrows", "-o", "/dev/null"}, true},
		{"detect to /dev/null", "/dev/null", []string{"detect", "--no-learned", "-r", sample, "-o", "/dev/null"}, true},
		{"features to /dev/full", "/dev/full", []string{"features", "-r", sample, "--format", "arrows", "-o", "/dev/full"}, false},
		{"detect to /dev/full", "/dev/full", []string{"detect", "--no-learned", "-r", sample, "-o", "/dev/full"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !isCharDevice(c.dev) {
				t.Skipf("%s is not a character device here", c.dev)
			}
			code, _, stderr := runCmd(c.args...)
			if c.ok && code != 0 {
				t.Errorf("exit %d: %s", code, stderr)
			}
			if !c.ok && (code == 0 || !strings.Contains(stderr, "no space left")) {
				t.Errorf("exit %d, stderr %q; want non-zero and the ENOSPC error", code, stderr)
			}
			if !isCharDevice(c.dev) {
				t.Fatalf("%s is no longer a character device", c.dev)
			}
		})
	}
	noTemps(t, "/dev")
}

// An output that is one of the inputs is refused before anything is
// written, and the capture is left byte for byte as it was.
func TestOutputThatIsAnInputIsRefused(t *testing.T) {
	dir := t.TempDir()
	x := copySample(t, dir, "x.pcap")
	link := filepath.Join(dir, "alias.pcap")
	os.Symlink(x, link)
	before, _ := os.ReadFile(x)
	for _, args := range [][]string{
		{"features", "-r", x, "-o", x},
		{"features", "-r", x, "-o", link},
		{"detect", "--no-learned", "-r", x, "-o", x},
		{"detect", "--no-learned", "-r", link, "-o", x},
	} {
		code, stdout, stderr := runCmd(args...)
		if code == 0 || !strings.Contains(stderr, "is the input") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line saying the output is the input", args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%v: wrote %q to stdout before refusing", args, stdout)
		}
		if after, _ := os.ReadFile(x); !bytes.Equal(after, before) {
			t.Fatalf("%v changed the capture", args)
		}
	}
	noTemps(t, dir)
}

// A previous run that died mid-line (a crash, a full disk) left a torn
// last line: the next run ends it before appending, so every new alert
// is a line of its own that parses.
func TestTornLastAlertLineIsEndedBeforeAppending(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "alerts.jsonl")
	torn := `{"timestamp":"2026-12-06T00:00:00Z","event_type":"al`
	os.WriteFile(log, []byte("{\"event_type\":\"alert\"}\n"+torn), 0o644)
	if code, _, stderr := runCmd("detect", "--no-learned", "-r", sample, "-o", log); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[1] != torn {
		t.Fatalf("log lines %q; want the old line, the torn line on its own, then 2 new events", lines)
	}
	for _, l := range lines[2:] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("new line does not parse: %q", l)
		}
	}
}

// A new alert log holds hosts, wallets and logins: it is not created
// world-readable.
func TestNewAlertLogIsNotWorldReadable(t *testing.T) {
	log := filepath.Join(t.TempDir(), "alerts.jsonl")
	if code, _, stderr := runCmd("detect", "--no-learned", "-r", sample, "-o", log); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(log); err != nil || fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("alert log mode %v (%v), want no access for others", fi.Mode().Perm(), err)
	}
}

// A FIFO given as -o is written through (and not replaced by a file).
func TestFIFOAsOutputGetsTheAlerts(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "alerts.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan []string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		var lines []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		got <- lines
	}()
	if code, _, stderr := runCmd("detect", "--no-learned", "-r", sample, "-o", fifo); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := <-got
	if len(lines) != 2 || !strings.Contains(lines[0], `"detector":"signature"`) {
		t.Errorf("read from the FIFO: %q; want the signature alert and its flow event", lines)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}

// Nonsense flag values are refused with exit 2 and one line naming the
// flag, before any input is read.
func TestNonsenseFlagValuesExitTwo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"flows", "-r", sample, "--max-flows", "0"}, "--max-flows"},
		{[]string{"flows", "-r", sample, "--max-flows", "-5"}, "--max-flows"},
		{[]string{"flows", "-r", sample, "--idle-timeout", "-1s"}, "--idle-timeout"},
		{[]string{"flows", "-r", sample, "--udp-timeout", "0s"}, "--udp-timeout"},
		{[]string{"flows", "-r", sample, "--active-timeout", "-1m"}, "--active-timeout"},
		{[]string{"flows", "-r", sample, "--proto", "icmp"}, "--proto"},
		{[]string{"detect", "-r", sample, "--max-flows", "-1"}, "--max-flows"},
		{[]string{"detect", "-r", sample, "--realtime", "--workers", "0"}, "--workers"},
		{[]string{"detect", "-r", sample, "--realtime", "--snaplen", "-1"}, "--snaplen"},
		{[]string{"detect", "-r", sample, "--realtime", "--snaplen", "10000000"}, "--snaplen"},
		{[]string{"detect", "-r", sample, "--realtime", "--speed", "0"}, "--speed"},
		{[]string{"detect", "-r", sample, "--realtime", "--pcap-out-max", "-3"}, "--pcap-out-max"},
		{[]string{"detect", "-r", sample, "--realtime", "--rotate-size", "-1"}, "--rotate-size"},
		{[]string{"detect", "-r", sample, "--realtime", "--pcap-out-max", "9223372036854775807"}, "--pcap-out-max"},
		{[]string{"train", "--manifest", "m.tsv", "-o", "m.gz", "--target-fpr", "NaN"}, "--target-fpr"},
		{[]string{"detect", "-r", sample, "--realtime", "--rotate-every", "-1h"}, "--rotate-every"},
		{[]string{"detect", "-r", sample, "--pcap-out", "e.pcap"}, "online path"},
		{[]string{"detect", "-r", sample, "--realtime", "--pcap-out", "./x", "-o", "x"}, "same file"},
		{[]string{"features", "-r", sample, "-o", "x.arrow", "--window", "-1s"}, "--window"},
		{[]string{"features", "-r", sample, "-o", "x.arrow", "--max-flows", "0"}, "--max-flows"},
		{[]string{"train", "--manifest", "m.tsv", "-o", "m.gz", "--trees", "0"}, "--trees"},
		{[]string{"eval", "--manifest", "m.tsv", "--model", "m.gz", "--folds", "-1"}, "--folds"},
	} {
		code, _, stderr := runCmd(c.args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %s", c.args, code, stderr, c.want)
		}
	}
}

func TestMetricsPortAloneBindsLoopback(t *testing.T) {
	for in, want := range map[string]string{
		"9410":           "127.0.0.1:9410",
		":9410":          "127.0.0.1:9410",
		"0.0.0.0:9410":   "0.0.0.0:9410",
		"[::1]:9410":     "[::1]:9410",
		"10.0.0.5:9410":  "10.0.0.5:9410",
		"localhost:9410": "localhost:9410",
	} {
		if got := metricsAddr(in); got != want {
			t.Errorf("metricsAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// The evidence pcap of an earlier run survives a restart: the second run
// appends its packets (the file was truncated at every start before).
func TestEvidenceIsNotTruncatedAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence.pcap")
	counts := []int{}
	for run := 0; run < 2; run++ {
		code, _, stderr := runCmd("detect", "--no-learned", "--no-model", "-r", sample, "--realtime", "--speed", "100000",
			"--pcap-out", ev, "-o", filepath.Join(dir, "alerts.jsonl"))
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", run, code, stderr)
		}
		f, err := os.Open(ev)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatalf("run %d: evidence is not a pcap: %v", run, err)
		}
		n := 0
		for {
			if _, _, err := r.ReadPacketData(); err != nil {
				break
			}
			n++
		}
		f.Close()
		counts = append(counts, n)
	}
	// Every run records the alerted flow from its alert on: the same
	// number of packets each time, so the file holds twice as many.
	if counts[0] == 0 || counts[1] != 2*counts[0] {
		t.Errorf("evidence packets after run 1 and 2: %v; want n then 2n", counts)
	}
}
