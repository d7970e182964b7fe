package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/features/live/livetest"
	"github.com/minerwatch/minerwatch/internal/shareddata"
)

// buildBinary builds minerwatch once per test binary run.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "minerwatch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// End to end on an interface: a plaintext XMRig capture replayed into a
// veth pair reaches `detect -i` with two workers, the signature alert is
// written, the metrics count the packets, and SIGTERM flushes the open
// flow (its "flow" event) and exits 0.
func TestLiveDetectOnVethAlertsCountsAndFlushesOnSIGTERM(t *testing.T) {
	data := shareddata.Require(t)
	nw := livetest.New(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	alerts := filepath.Join(dir, "alerts.jsonl")
	evidence := filepath.Join(dir, "evidence.pcap")
	rows := filepath.Join(dir, "rows.arrows")
	// The metrics listener is on the namespace's own loopback, so a fixed
	// port cannot collide with anything outside it.
	cmd := nw.Command(bin, "detect", "-i", nw.Capture, "--workers", "2", "-o", alerts,
		"--metrics", "127.0.0.1:9410", "--no-learned", "--no-model", "--pcap-out", evidence, "--rows-out", rows)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	if !waitFor(5*time.Second, func() bool { return strings.Contains(stderr.String(), "metrics on") }) {
		t.Fatalf("detect did not start: %s", stderr.String())
	}
	// xmrig-plain-3333: one CryptoNote login/job/submit conversation; the
	// flow is still open at the end of the capture (no FIN), so only the
	// shutdown flush can write its flow event.
	nw.Replay(t, filepath.Join(data, "lab/mining/xmrig-plain-3333.pcap"), "--topspeed")
	var sig map[string]any
	if !waitFor(5*time.Second, func() bool {
		for _, a := range readAlerts(t, alerts) {
			if detector(a) == "signature" && a["event_type"] == "alert" {
				sig = a
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no signature alert; stderr: %s", stderr.String())
	}
	if sig["in_iface"] != nw.Capture || sig["dest_port"] != float64(3333) {
		t.Errorf("alert = %v", sig)
	}
	// 286 frames in the capture (capinfos). The alert can be written
	// before the workers have drained the ring, so wait for the count.
	var metrics string
	waitFor(5*time.Second, func() bool {
		metrics = scrape(t, nw, "http://127.0.0.1:9410/metrics")
		return sumMetric(metrics, "minerwatch_packets_total") >= 286
	})
	if got := sumMetric(metrics, "minerwatch_packets_total"); got < 286 {
		t.Errorf("minerwatch_packets_total = %v, want ≥ 286\n%s", got, metrics)
	}
	if got := sumMetric(metrics, `minerwatch_alerts_total{detector="signature"}`); got != 1 {
		t.Errorf(`alerts_total{detector="signature"} = %v, want 1`, got)
	}
	if got := sumMetric(metrics, "minerwatch_kernel_drops_total"); got != 0 {
		t.Errorf("kernel drops %v on a 286-frame replay", got)
	}
	hosts := scrape(t, nw, "http://127.0.0.1:9410/hosts")
	if !strings.Contains(hosts, `"10.200.1.1"`) {
		t.Errorf("host view lacks the miner: %s", hosts)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if err != nil {
		t.Fatalf("detect after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	flowEvent := false
	for _, a := range readAlerts(t, alerts) {
		if a["event_type"] == "flow" && detector(a) == "signature" && a["flow_id"] == sig["flow_id"] {
			flowEvent = true
		}
	}
	if !flowEvent {
		t.Errorf("SIGTERM did not flush the open mining flow (no flow event)")
	}
	if fi, err := os.Stat(evidence); err != nil || fi.Size() <= 24 {
		t.Errorf("evidence pcap: %v, %v", fi, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "rows-*.arrows")); len(m) != 1 {
		t.Errorf("rows files %v: want one completed stream", m)
	}
}

// A lost interface stops detect with a clear message and a non-zero exit.
func TestLiveDetectExitsNonZeroWhenTheInterfaceGoes(t *testing.T) {
	nw := livetest.New(t)
	bin := buildBinary(t)
	cmd := nw.Command(bin, "detect", "-i", nw.Capture, "--no-learned", "--no-model")
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	time.Sleep(300 * time.Millisecond)
	nw.Run(t, "ip", "link", "del", nw.Send) // takes the peer with it
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("exit 0 after the interface went; stderr: %s", stderr.String())
		}
		if !strings.Contains(stderr.String(), nw.Capture) {
			t.Errorf("message does not name the interface: %s", stderr.String())
		}
		t.Logf("stderr: %s", strings.TrimSpace(stderr.String()))
	case <-time.After(5 * time.Second):
		t.Fatalf("detect still running after its interface went; stderr: %s", stderr.String())
	}
}

func TestLiveDetectMissingInterfaceIsOneErrorLine(t *testing.T) {
	code, _, stderr := runCmd("detect", "-i", "mw-no-such0", "--no-learned", "--no-model")
	if code == 0 || !strings.Contains(stderr, "no such interface") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
}

func readAlerts(t *testing.T, path string) []map[string]any {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a map[string]any
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alert line %q: %v", sc.Text(), err)
		}
		out = append(out, a)
	}
	return out
}

// scrape fetches a path from inside the namespace (the listener is on its
// loopback). The socket is made on a thread in the namespace; an
// http.Client would dial from another goroutine, outside it.
func scrape(t *testing.T, nw *livetest.Net, url string) string {
	t.Helper()
	path := url[strings.Index(url[len("http://"):], "/")+len("http://"):]
	host := strings.TrimPrefix(strings.TrimSuffix(url, path), "http://")
	var conn net.Conn
	if err := nw.Do(func() (err error) { conn, err = net.DialTimeout("tcp", host, 3*time.Second); return err }); err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(conn, "GET "+path+" HTTP/1.0\r\nHost: "+host+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return string(body)
}

// sumMetric sums the samples whose name (with labels) starts with prefix.
func sumMetric(text, prefix string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := line[len(prefix):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		var v float64
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			json.Unmarshal([]byte(line[i+1:]), &v)
		}
		sum += v
	}
	return sum
}

// detector reads an event's minerwatch.detector.
func detector(a map[string]any) string {
	ours, _ := a["minerwatch"].(map[string]any)
	d, _ := ours["detector"].(string)
	return d
}
